// Engine through the Node binding: golden logits and greedy tokens of the tiny fixtures for every
// offload interval, single sequences and a mixed batch, bitwise-identical logits across N; errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeError, createRuntime, type OffloadRuntime } from '../../src/runtime/index.ts';
import { loadModel, logitsRow, sample, type Model } from '../../src/runtime/engine.ts';
import { MODEL_FAMILIES } from '../../src/planner/index.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

interface Golden {
  logitScale: number;
  runs: { promptIds: number[]; greedyIds: number[]; stepLogits: number[][] }[];
}

function golden(name: string): Golden {
  return JSON.parse(readFileSync(join(fixtures, name, 'golden.json'), 'utf8')) as Golden;
}

function maxDiff(a: Float32Array, b: number[]): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return m;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] ?? -Infinity) > (a[best] ?? -Infinity)) best = i;
  return best;
}

function everyNth(layers: number, n: number): number[] {
  return n === 0
    ? []
    : Array.from({ length: layers }, (_, i) => i).filter((i) => (i + 1) % n === 0);
}

async function open(
  name: string,
  layers: number,
  interval: number,
): Promise<{ rt: OffloadRuntime; model: Model }> {
  const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
  const model = await loadModel(rt, join(fixtures, name), {
    blockSize: 4,
    threads: 1,
    offloadSet: everyNth(layers, interval),
    interval,
  });
  return { rt, model };
}

/** Prefill + teacher-forced decode of every golden run; returns all logits rows. */
async function runSingle(name: string, layers: number, interval: number): Promise<Float32Array[]> {
  const g = golden(name);
  const { rt, model } = await open(name, layers, interval);
  const rows: Float32Array[] = [];
  const tol = 1e-4 * g.logitScale;
  for (const r of g.runs) {
    const blocks = Uint32Array.from(
      await rt.kvAlloc(model.blocksFor(r.promptIds.length + r.greedyIds.length)),
    );
    let out = await model.step([
      { tokens: Int32Array.from(r.promptIds), nPast: 0, blockIds: blocks },
    ]);
    expect(out.telemetry.offloadedLayers).toBe(everyNth(layers, interval).length);
    for (let k = 0; k <= r.greedyIds.length; k++) {
      const row = logitsRow(out, model.info.vocabSize, 0);
      expect(maxDiff(row, r.stepLogits[k] ?? [])).toBeLessThan(tol);
      rows.push(row.slice());
      if (k === r.greedyIds.length) break;
      expect(argmax(row)).toBe(r.greedyIds[k]);
      out = await model.step([
        {
          tokens: Int32Array.of(r.greedyIds[k] ?? -1),
          nPast: r.promptIds.length + k,
          blockIds: blocks,
        },
      ]);
    }
    await rt.kvFree([...blocks]);
  }
  await model.close();
  await rt.close();
  return rows;
}

describe('engine binding', () => {
  const cases = [
    ['tiny-llama', 4],
    ['tiny-llama-tied-bf16', 3],
    ['tiny-opt', 4],
    ['tiny-qwen2', 3],
    ['tiny-qwen3', 3],
    ['tiny-mistral', 3],
    ['tiny-phi3', 3],
  ] as const;

  it('runs a fixture of every model_type in the supported-families table', () => {
    const modelType = (name: string): unknown =>
      (
        JSON.parse(readFileSync(join(fixtures, name, 'config.json'), 'utf8')) as Record<
          string,
          unknown
        >
      )['model_type'];
    const covered = new Set(cases.map(([name]) => modelType(name)));
    expect([...covered].sort()).toEqual(MODEL_FAMILIES.map((f) => f.modelType).sort());
  });

  for (const [name, layers] of cases) {
    it(`${name}: matches the golden logits and greedy tokens for every N, bitwise across N`, async () => {
      const base = await runSingle(name, layers, 0);
      for (let n = 1; n <= layers; n++) {
        const got = await runSingle(name, layers, n);
        expect(got.length).toBe(base.length);
        got.forEach((row, i) => {
          expect(Buffer.from(row.buffer)).toEqual(
            Buffer.from(base[i]?.buffer ?? new ArrayBuffer(0)),
          );
        });
      }
    });
  }

  it('runs a mixed batch: one prefill beside two decodes, rows in sequence order', async () => {
    const g = golden('tiny-llama');
    const { rt, model } = await open('tiny-llama', 4, 2);
    const [a, b, c] = [g.runs[0], g.runs[1], g.runs[2]];
    if (!a || !b || !c) throw new Error('golden has three runs');
    const ba = Uint32Array.from(await rt.kvAlloc(model.blocksFor(64)));
    const bb = Uint32Array.from(await rt.kvAlloc(model.blocksFor(64)));
    const bc = Uint32Array.from(await rt.kvAlloc(model.blocksFor(64)));
    await model.step([
      { tokens: Int32Array.from(a.promptIds), nPast: 0, blockIds: ba },
      { tokens: Int32Array.from(b.promptIds), nPast: 0, blockIds: bb },
    ]);
    const out = await model.step([
      { tokens: Int32Array.of(a.greedyIds[0] ?? -1), nPast: a.promptIds.length, blockIds: ba },
      { tokens: Int32Array.from(c.promptIds), nPast: 0, blockIds: bc, allLogits: true },
      { tokens: Int32Array.of(b.greedyIds[0] ?? -1), nPast: b.promptIds.length, blockIds: bb },
    ]);
    const V = model.info.vocabSize;
    expect(out.rows).toBe(1 + c.promptIds.length + 1);
    const tol = 1e-4 * g.logitScale;
    expect(maxDiff(logitsRow(out, V, 0), a.stepLogits[1] ?? [])).toBeLessThan(tol);
    expect(maxDiff(logitsRow(out, V, c.promptIds.length), c.stepLogits[0] ?? [])).toBeLessThan(tol);
    expect(maxDiff(logitsRow(out, V, out.rows - 1), b.stepLogits[1] ?? [])).toBeLessThan(tol);
    await model.close();
    await rt.close();
  });

  it('samples greedily and reproducibly with a seed', async () => {
    const g = golden('tiny-opt');
    const { rt, model } = await open('tiny-opt', 4, 0);
    const r = g.runs[0];
    if (!r) throw new Error('no run');
    const blocks = Uint32Array.from(await rt.kvAlloc(model.blocksFor(r.promptIds.length)));
    const out = await model.step([
      { tokens: Int32Array.from(r.promptIds), nPast: 0, blockIds: blocks },
    ]);
    const row = logitsRow(out, model.info.vocabSize, 0);
    const greedy = sample(row, { temperature: 0, topLogprobs: 2 }, { step: 0 });
    expect(greedy.token).toBe(r.greedyIds[0]);
    expect(greedy.top[0]?.token).toBe(greedy.token);
    const draws = (seed: number) =>
      Array.from(
        { length: 8 },
        (_, s) => sample(row, { temperature: 1.5, topP: 0.9, seed }, { step: s }).token,
      );
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(() => sample(row, { topP: 0 }, { step: 0 })).toThrow(/top_p/);
    await model.close();
    await rt.close();
  });

  it('rejects bad folders and bad steps with clear errors', async () => {
    const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
    await expect(loadModel(rt, '/nonexistent')).rejects.toThrow(/config\.json/);
    const rt2 = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
    const model = await loadModel(rt2, join(fixtures, 'tiny-llama'), { blockSize: 4 });
    const blocks = Uint32Array.from(await rt2.kvAlloc(1));
    const err: unknown = await model
      .step([{ tokens: Int32Array.of(1, 2, 3, 4, 5), nPast: 0, blockIds: blocks }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe('SN_ERR_INVALID_ARGUMENT');
    expect((err as RuntimeError).message).toMatch(/block table/);
    await model.close();
    await rt.close();
    await rt2.close();
  });
});
