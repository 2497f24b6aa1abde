// KV reuse under a sliding window on the real engine (tiny-mistral, window 6): leading blocks
// wholly before the window are given back to the pool and passed as RELEASED_KV_BLOCK; the
// engine never reads them (their pointer is null), so a sequence generating far past the window
// gives bit for bit the logits of one holding every block, and the golden's greedy tokens. A
// released block that a query still reads, or any released block on a model without a window,
// is refused naming the block and the window.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeError, createRuntime } from '../../src/runtime/index.ts';
import { RELEASED_KV_BLOCK, loadModel, logitsRow } from '../../src/runtime/engine.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

interface Golden {
  logitScale: number;
  runs: { promptIds: number[]; greedyIds: number[]; stepLogits: number[][] }[];
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] ?? -Infinity) > (a[best] ?? -Infinity)) best = i;
  return best;
}

const BLOCK = 2;
const GENERATED = 120;

describe('sliding-window KV reuse on the engine', () => {
  it('generates far past the window with released blocks, equal bit for bit to all blocks held', async () => {
    const g = JSON.parse(
      readFileSync(join(fixtures, 'tiny-mistral', 'golden.json'), 'utf8'),
    ) as Golden;
    const run = g.runs[0];
    if (run === undefined) throw new Error('golden has no run');
    const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
    const model = await loadModel(rt, join(fixtures, 'tiny-mistral'), {
      blockSize: BLOCK,
      threads: 1,
    });
    const window = model.info.slidingWindow;
    expect(window).toBe(6);
    const total = run.promptIds.length + GENERATED;
    // Sequence 0 holds every block; sequence 1 gives blocks back as they leave the window.
    const full = Uint32Array.from(await rt.kvAlloc(model.blocksFor(total)));
    const table = new Uint32Array(model.blocksFor(total)).fill(RELEASED_KV_BLOCK);
    let released = 0;
    let mostHeld = 0;
    const grow = async (nPast: number, end: number): Promise<void> => {
      // Release first, then allocate: blocks before the window of the step's first query (nPast).
      const releasable = Math.max(0, Math.floor((nPast - window + 1) / BLOCK));
      for (; released < releasable; released++) {
        const b = table[released] ?? RELEASED_KV_BLOCK;
        if (b !== RELEASED_KV_BLOCK) await rt.kvFree([b]);
        table[released] = RELEASED_KV_BLOCK;
      }
      for (let i = released; i < model.blocksFor(end); i++) {
        if (table[i] === RELEASED_KV_BLOCK)
          table[i] = (await rt.kvAlloc(1))[0] ?? RELEASED_KV_BLOCK;
      }
      // Decodes only: a prefill holds its whole chunk as well.
      if (end - nPast === 1) mostHeld = Math.max(mostHeld, model.blocksFor(end) - released);
    };

    const prompt = Int32Array.from(run.promptIds);
    await grow(0, prompt.length);
    let out = await model.step([
      { tokens: prompt, nPast: 0, blockIds: full },
      { tokens: prompt, nPast: 0, blockIds: table.slice(0, model.blocksFor(prompt.length)) },
    ]);
    const generated: number[] = [];
    for (let k = 0; k < GENERATED; k++) {
      const a = logitsRow(out, model.info.vocabSize, 0);
      const b = logitsRow(out, model.info.vocabSize, 1);
      expect(Array.from(b)).toEqual(Array.from(a));
      if (k < run.greedyIds.length) {
        let diff = 0;
        const want = run.stepLogits[k] ?? [];
        for (let i = 0; i < want.length; i++)
          diff = Math.max(diff, Math.abs((a[i] ?? NaN) - (want[i] ?? NaN)));
        expect(diff).toBeLessThan(1e-4 * g.logitScale);
      }
      const token = argmax(a);
      generated.push(token);
      const nPast = prompt.length + k;
      await grow(nPast, nPast + 1);
      out = await model.step([
        { tokens: Int32Array.of(token), nPast, blockIds: full },
        {
          tokens: Int32Array.of(token),
          nPast,
          blockIds: table.slice(0, model.blocksFor(nPast + 1)),
        },
      ]);
    }
    expect(generated.slice(0, run.greedyIds.length)).toEqual(run.greedyIds);
    // Window 6 in blocks of 2: a decode holds at most ceil(6 / 2) + 1 = 4 blocks, against 65 for
    // the context.
    expect(mostHeld).toBeLessThanOrEqual(4);
    expect(released).toBeGreaterThan(50);

    // A released block that the next query still reads (position nPast - 5 is in block 0).
    const blocks = Uint32Array.from(await rt.kvAlloc(4));
    const inside = Uint32Array.from(blocks);
    inside[0] = RELEASED_KV_BLOCK;
    const err: unknown = await model
      .step([{ tokens: Int32Array.of(5), nPast: 6, blockIds: inside }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).message).toMatch(
      /block 0 of the block table is released but holds positions 0\.\.1, inside the sliding window from position 1/,
    );
    // Position 7 reads from 2 on: block 0 (positions 0..1) may be released.
    await model.step([{ tokens: Int32Array.of(5), nPast: 7, blockIds: inside }]);
    await model.close();
    await rt.close();
  }, 60_000);

  it('refuses any released block on a model without a sliding window', async () => {
    const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
    const model = await loadModel(rt, join(fixtures, 'tiny-llama'), { blockSize: 2, threads: 1 });
    expect(model.info.slidingWindow).toBe(0);
    const blocks = Uint32Array.from(await rt.kvAlloc(8));
    blocks[0] = RELEASED_KV_BLOCK;
    const err: unknown = await model
      .step([{ tokens: Int32Array.of(5), nPast: 14, blockIds: blocks }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).message).toMatch(/block 0 .* released .* has no sliding window/);
    await model.close();
    await rt.close();
  });
});
