// Decision time of the online stage for an 80-layer model (llama-3-70b on h100-80gb): one
// interval choice per iteration and one admission check, over varied batch shapes and bandwidths.
// Usage: node_modules/.bin/node bench/planner/decision-time.ts [--out bench/results/decision-time.json]
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  analyticProfile,
  builtinHardware,
  builtinModel,
  gpuMemoryAtInterval,
  intervalChooser,
  latencyModel,
  resolveMemoryOptions,
  seededRandom,
  type BatchShape,
} from '../../src/planner/index.ts';

const model = builtinModel('llama-3-70b');
const hardware = builtinHardware('h100-80gb');
const latency = latencyModel(model, analyticProfile(model, hardware));
const memory = resolveMemoryOptions();
// The widest range a fitting 80-layer deployment can have: every interval from 1 to 80.
const chooser = intervalChooser(
  latency,
  { intervalMin: 1, intervalMax: 80 },
  (n) => gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens,
);
const random = seededRandom(42);
const SAMPLES = 200_000;
const shapes: BatchShape[] = [];
const bandwidths: number[] = [];
const targets: number[] = [];
for (let i = 0; i < 4096; i++) {
  const sequences = 1 + Math.floor(random.next() * 64);
  const chunk = random.next() < 0.3 ? Math.floor(random.next() * 512) : 0;
  const context = 64 + Math.floor(random.next() * 4000);
  shapes.push({
    sequences: sequences + (chunk > 0 ? 1 : 0),
    newTokens: sequences + chunk,
    contextTokens: sequences * context + chunk,
  });
  bandwidths.push(25e9 + random.next() * 23e9);
  targets.push(200 + random.next() * 3000);
}

function measure(
  label: string,
  decide: (i: number) => unknown,
): { p50Us: number; p99Us: number; meanUs: number } {
  for (let i = 0; i < 20_000; i++) decide(i & 4095); // warm up the JIT
  const times = new Float64Array(SAMPLES);
  let sink = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    const r = decide(i & 4095);
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (r) sink++;
  }
  times.sort();
  const at = (q: number): number => times[Math.min(SAMPLES - 1, Math.ceil(q * SAMPLES) - 1)] ?? 0;
  const meanUs = times.reduce((s, t) => s + t, 0) / SAMPLES;
  const result = {
    p50Us: Number(at(0.5).toFixed(3)),
    p99Us: Number(at(0.99).toFixed(3)),
    meanUs: Number(meanUs.toFixed(3)),
  };
  console.log(
    `${label.padEnd(34)} p50 ${result.p50Us} us  p99 ${result.p99Us} us  mean ${result.meanUs} us  (${sink} decisions)`,
  );
  return result;
}

const choose = measure('choose (smallest N meeting SLO)', (i) =>
  chooser.choose(shapes[i] as BatchShape, bandwidths[i] ?? 0, targets[i] ?? 0),
);
const chooseHolding = measure('chooseHolding (KV in use)', (i) =>
  chooser.chooseHolding(
    shapes[i] as BatchShape,
    bandwidths[i] ?? 0,
    targets[i] ?? 0,
    (shapes[i]?.contextTokens ?? 0) * 4,
  ),
);
const admit = measure('admit (SLO + KV check)', (i) =>
  chooser.admit(
    shapes[i] as BatchShape,
    bandwidths[i] ?? 0,
    targets[i] ?? 0,
    shapes[i]?.contextTokens ?? 0,
  ),
);

const out = process.argv.indexOf('--out');
const report = {
  benchmark: 'planner online decision time',
  model: model.name,
  numLayers: model.numLayers,
  hardware: hardware.name,
  candidateSets: chooser.candidates.length,
  samples: SAMPLES,
  goal: 'p99 < 5 us',
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  note: 'timer overhead (process.hrtime.bigint, ~0.05-0.1 us) included in every sample',
  choose,
  chooseHolding,
  admit,
};
if (out >= 0)
  writeFileSync(
    process.argv[out + 1] ?? 'bench/results/decision-time.json',
    JSON.stringify(report, null, 2) + '\n',
  );
