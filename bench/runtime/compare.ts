// Runtime benchmark driver: runs native selectn-bench (or reads its JSON), feeds the measured
// per-layer compute times to the planner's latency model (src/planner predictIteration) and
// compares its predicted iteration times with the measured ones over the sweep.
//   node bench/runtime/compare.ts [--input bench.json] [--out bench/results/runtime-cpu.json]
//                                 [--bench path/to/selectn-bench] [-- selectn-bench flags...]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { predictIteration } from '../../src/planner/index.ts';

interface SweepPoint {
  interval: number;
  batch: number;
  bandwidthBudget: number;
  modelBandwidth: number;
  offloadSet: number[];
  iterationUs: number;
  iterationsUs: number[];
  stallUs: number;
  achievedBandwidth: number | null;
  layerComputeUs: number[];
  predictedUs: number;
}

interface BenchOutput {
  backend: string;
  device: string;
  layers: number;
  layerBytes: number;
  stagingSlots: number;
  rawCopyBytesPerS: number;
  engineCopyBytesPerS: number;
  copyBandwidthRatio: number;
  overlap: {
    batch: number;
    interval: number;
    baselineUs: number;
    offloadedUs: number;
    ratio: number;
  };
  overlapRatio: number;
  profiles: { batch: number; layerComputeUs: number[]; iterationUs: number }[];
  sweep: SweepPoint[];
}

function parseArgs(argv: string[]): {
  input?: string;
  out: string;
  bench: string;
  benchArgs: string[];
} {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const benchArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  let input: string | undefined;
  let out = 'bench/results/runtime-cpu.json';
  let bench = 'native/build/bench/selectn-bench';
  for (let i = 0; i < own.length; i++) {
    const flag = own[i];
    const value = own[i + 1];
    if (value === undefined) throw new Error(`${flag ?? ''} needs a value`);
    if (flag === '--input') input = value;
    else if (flag === '--out') out = value;
    else if (flag === '--bench') bench = value;
    else throw new Error(`unknown flag ${flag ?? ''}`);
    i++;
  }
  return { input, out, bench, benchArgs };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  let text: string;
  if (args.input !== undefined) {
    text = readFileSync(args.input, 'utf8');
  } else {
    console.error(`running ${args.bench} ${args.benchArgs.join(' ')}`);
    text = execFileSync(resolve(args.bench), args.benchArgs, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    });
  }
  const bench = JSON.parse(text) as BenchOutput;

  const rows = bench.sweep.map((p) => {
    const profile = bench.profiles.find((q) => q.batch === p.batch);
    if (profile === undefined) throw new Error(`no profile for batch ${p.batch}`);
    const computeMs = profile.layerComputeUs.map((us) => us / 1000);
    const layerSum = profile.layerComputeUs.reduce((a, b) => a + b, 0);
    // Time outside the layers (iteration begin/end), from the profile at N = infinity.
    const outsideLayersMs = Math.max(0, profile.iterationUs - layerSum) / 1000;
    const predicted = predictIteration({
      computeMs,
      numLayers: bench.layers,
      offloaded: p.offloadSet,
      copyMs: (bench.layerBytes / p.modelBandwidth) * 1000,
      stagingSlots: bench.stagingSlots,
      outsideLayersMs,
    });
    const predictedUs = predicted.iterationMs * 1000;
    // Same model fed with the layer times measured in this very run (separates the model's error
    // from run-to-run variance of compute on a shared machine).
    const sameRun = predictIteration({
      computeMs: p.layerComputeUs.map((us) => us / 1000),
      numLayers: bench.layers,
      offloaded: p.offloadSet,
      copyMs: (bench.layerBytes / p.modelBandwidth) * 1000,
      stagingSlots: bench.stagingSlots,
      outsideLayersMs,
    });
    const sameRunUs = sameRun.iterationMs * 1000;
    return {
      interval: p.interval,
      batch: p.batch,
      bandwidthBudget: p.bandwidthBudget,
      measuredUs: p.iterationUs,
      predictedUs,
      predictedStallUs: predicted.stallMs * 1000,
      measuredStallUs: p.stallUs,
      error: Math.abs(predictedUs - p.iterationUs) / p.iterationUs,
      sameRunPredictedUs: sameRunUs,
      sameRunError: Math.abs(sameRunUs - p.iterationUs) / p.iterationUs,
    };
  });
  const errors = rows.map((r) => r.error);
  const result = {
    copyBandwidthRatio: bench.copyBandwidthRatio,
    overlapRatio: bench.overlapRatio,
    predictionErrorP95: percentile(errors, 95),
    predictionErrorP50: percentile(errors, 50),
    predictionErrorMax: Math.max(...errors),
    predictionErrorP95SameRunLayerTimes: percentile(
      rows.map((r) => r.sameRunError),
      95,
    ),
    goals: { copyBandwidthRatio: '>= 0.9', overlapRatio: '<= 1.03', predictionErrorP95: '<= 0.05' },
    backend: bench.backend,
    device: bench.device,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAvg1m: os.loadavg()[0],
    },
    command: `node bench/runtime/compare.ts ${process.argv.slice(2).join(' ')}`.trim(),
    measuredAt: new Date().toISOString(),
    layers: bench.layers,
    layerBytes: bench.layerBytes,
    stagingSlots: bench.stagingSlots,
    rawCopyBytesPerS: bench.rawCopyBytesPerS,
    engineCopyBytesPerS: bench.engineCopyBytesPerS,
    overlap: bench.overlap,
    predictions: rows,
    bench,
  };
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  console.log(
    `copyBandwidthRatio ${bench.copyBandwidthRatio.toFixed(3)}  overlapRatio ${bench.overlapRatio.toFixed(4)}  ` +
      `predictionErrorP95 ${(result.predictionErrorP95 * 100).toFixed(2)}%  ` +
      `(same-run layer times ${(result.predictionErrorP95SameRunLayerTimes * 100).toFixed(2)}%, ${rows.length} points) -> ${args.out}`,
  );
}

main();
