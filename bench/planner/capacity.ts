// Capacity at the SLO of Select-N and every baseline over the committed scenarios (issue 14):
// writes one JSON per scenario into --out-dir; bench/planner/summarize-capacity.ts combines them.
// Usage (from the repository root):
//   node_modules/.bin/node bench/planner/capacity.ts [--shard I/N] [--only REGEX]
//     [--out-dir bench/results/capacity] [--requests 600] [--seeds 1,2,3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyticProfile,
  builtinHardware,
  builtinModel,
  compareCapacity,
  type LengthDistribution,
} from '../../src/planner/index.ts';

interface Scenario {
  name: string;
  model: string;
  gpu: string;
  tpotMs: number;
  ttftMs: number;
  prompts: 'default' | '512-1536';
}

const LONG_PROMPTS: LengthDistribution = { median: 1024, sigma: 0.35, min: 512, max: 1536 };

export function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const model of ['llama-13b', 'opt-13b']) {
    for (const gpu of ['l4', 'a10g']) {
      for (const prompts of ['default', '512-1536'] as const) {
        for (const tpotMs of [450, 500, 555, 600, 650, 800]) {
          out.push({
            name: `${model}-${gpu}-tpot${tpotMs}-${prompts}`,
            model,
            gpu,
            tpotMs,
            ttftMs: 10_000,
            prompts,
          });
        }
      }
    }
  }
  for (const [gpu, tpotMs] of [
    ['a100-80gb', 4000],
    ['h100-80gb', 2000],
  ] as const) {
    out.push({
      name: `llama-3-70b-${gpu}-tpot${tpotMs}-default`,
      model: 'llama-3-70b',
      gpu,
      tpotMs,
      ttftMs: 60_000,
      prompts: 'default',
    });
  }
  // Negative controls: the model fits with room for its KV cache; offloading cannot pay.
  for (const gpu of ['a100-40gb', 'h100-80gb']) {
    out.push({
      name: `llama-13b-${gpu}-tpot100-default`,
      model: 'llama-13b',
      gpu,
      tpotMs: 100,
      ttftMs: 2000,
      prompts: 'default',
    });
  }
  return out;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.main) {
  const outDir = flag('--out-dir') ?? 'bench/results/capacity';
  const [shard, shards] = (flag('--shard') ?? '0/1').split('/').map(Number) as [number, number];
  const only = flag('--only');
  const requests = Number(flag('--requests') ?? '600');
  const seeds = (flag('--seeds') ?? '1,2,3').split(',').map(Number);
  mkdirSync(outDir, { recursive: true });
  const list = scenarios()
    .filter((s) => only === undefined || new RegExp(only).test(s.name))
    .filter((_, i) => i % shards === shard);
  for (const s of list) {
    const started = performance.now();
    const model = builtinModel(s.model);
    const hardware = builtinHardware(s.gpu);
    const report = compareCapacity({
      model,
      hardware,
      profile: analyticProfile(model, hardware),
      slo: { ttftMs: s.ttftMs, tpotMs: s.tpotMs },
      seeds,
      requests,
      ...(s.prompts === '512-1536' ? { prompt: LONG_PROMPTS } : {}),
    });
    const seconds = (performance.now() - started) / 1000;
    writeFileSync(
      join(outDir, `${s.name}.json`),
      JSON.stringify({ scenario: s, seconds, report }, null, 2) + '\n',
    );
    process.stdout.write(`${s.name}: ${seconds.toFixed(1)} s\n`);
  }
}
