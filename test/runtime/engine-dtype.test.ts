// Weights in their stored dtype: the engine keeps fp16/bf16 weights at their width in memory and
// computes in fp32, so logits match the dtype goldens (transformers on the rounded weights, with
// the tolerance written in the golden) and stay bitwise identical for every interval N; its layer
// bytes are the planner's decoderLayerBytes; a dtype it cannot store is refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderLayerBytes, modelFromHuggingFaceConfig } from '../../src/planner/index.ts';
import { RuntimeError, createRuntime } from '../../src/runtime/index.ts';
import { loadModel, logitsRow, type WeightDtype } from '../../src/runtime/engine.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

interface Golden {
  dtype: string;
  logitScale: number;
  tolerance: number;
  runs: { promptIds: number[]; greedyIds: number[]; stepLogits: number[][] }[];
}

function golden(name: string, dtype: string): Golden {
  return JSON.parse(readFileSync(join(fixtures, name, `golden-${dtype}.json`), 'utf8')) as Golden;
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

/** The planner's description of a fixture's config.json at a weight width. */
function description(name: string, dtypeBytes: 2 | 4) {
  const config = JSON.parse(readFileSync(join(fixtures, name, 'config.json'), 'utf8')) as unknown;
  return { ...modelFromHuggingFaceConfig(config, name), dtypeBytes };
}

/** Prefill + teacher-forced decode of every golden run at interval n; all logits rows. */
async function run(
  name: string,
  dtype: WeightDtype,
  layers: number,
  n: number,
  g: Golden,
): Promise<{ rows: Float32Array[]; layerBytes: number; stored: string; worst: number }> {
  const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
  const model = await loadModel(rt, join(fixtures, name), {
    blockSize: 4,
    threads: 1,
    offloadSet: everyNth(layers, n),
    interval: n,
    dtype,
  });
  const rows: Float32Array[] = [];
  let worst = 0;
  for (const r of g.runs) {
    const blocks = Uint32Array.from(
      await rt.kvAlloc(model.blocksFor(r.promptIds.length + r.greedyIds.length)),
    );
    let out = await model.step([
      { tokens: Int32Array.from(r.promptIds), nPast: 0, blockIds: blocks },
    ]);
    for (let k = 0; k <= r.greedyIds.length; k++) {
      const row = logitsRow(out, model.info.vocabSize, 0);
      const want = r.stepLogits[k] ?? [];
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs((row[i] ?? NaN) - (want[i] ?? NaN)));
      }
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
  const result = { rows, layerBytes: model.info.layerBytes, stored: model.info.dtype, worst };
  await model.close();
  await rt.close();
  return result;
}

describe('weights in their stored dtype', () => {
  const cases = [
    ['tiny-llama', 'float16', 4],
    ['tiny-llama', 'bfloat16', 4],
    ['tiny-opt', 'bfloat16', 4],
  ] as const;

  for (const [name, dtype, layers] of cases) {
    it(`${name} as ${dtype}: golden within its tolerance, greedy tokens equal, bitwise across N`, async () => {
      const g = golden(name, dtype);
      const base = await run(name, dtype, layers, 0, g);
      expect(base.stored).toBe(dtype);
      expect(base.worst).toBeLessThan(g.tolerance * g.logitScale);
      expect(base.layerBytes).toBe(decoderLayerBytes(description(name, 2)));
      for (let n = 1; n <= layers; n++) {
        const got = await run(name, dtype, layers, n, g);
        expect(got.rows.length).toBe(base.rows.length);
        got.rows.forEach((row, i) => {
          expect(Buffer.from(row.buffer)).toEqual(
            Buffer.from(base.rows[i]?.buffer ?? new ArrayBuffer(0)),
          );
        });
      }
    });
  }

  it("auto keeps the checkpoint's dtype; float32 widens it; bytes are decoderLayerBytes", async () => {
    const sizes: Record<string, { dtype: string; bytes: number }> = {};
    for (const [name, dtype] of [
      ['tiny-opt', 'auto'],
      ['tiny-opt', 'float32'],
      ['tiny-llama-tied-bf16', 'auto'],
      ['tiny-llama', 'auto'],
    ] as const) {
      const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
      const model = await loadModel(rt, join(fixtures, name), { dtype });
      sizes[`${name} ${dtype}`] = { dtype: model.info.dtype, bytes: model.info.layerBytes };
      await model.close();
      await rt.close();
    }
    expect(sizes['tiny-opt auto']).toEqual({
      dtype: 'float16',
      bytes: decoderLayerBytes(description('tiny-opt', 2)),
    });
    expect(sizes['tiny-opt float32']).toEqual({
      dtype: 'float32',
      bytes: decoderLayerBytes(description('tiny-opt', 4)),
    });
    expect(sizes['tiny-llama-tied-bf16 auto']).toEqual({
      dtype: 'bfloat16',
      bytes: decoderLayerBytes(description('tiny-llama-tied-bf16', 2)),
    });
    expect(sizes['tiny-llama auto']).toEqual({
      dtype: 'float32',
      bytes: decoderLayerBytes(description('tiny-llama', 4)),
    });
  });

  it('refuses a dtype it does not store, naming it', async () => {
    const rt = await createRuntime({ backend: 'cpu', deviceBudgetBytes: 64 << 20 });
    const bad = 'float8_e4m3fn' as unknown as WeightDtype;
    const error = await loadModel(rt, join(fixtures, 'tiny-llama'), { dtype: bad }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/dtype 'float8_e4m3fn' is not one of auto/);
    await rt.close();
  });
});
