// Builds bench/results/engine-cpu.json from the runs of bench/engine/run.sh: throughput ratios vs
// PyTorch, and offloaded decode steps measured vs the planner's timeline prediction.
//   node bench/engine/report.ts WORK_DIR OUT_JSON CONTEXT_JSON
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { predictIteration } from '../../src/planner/timeline.ts';

interface EngineRun {
  interval: number;
  bandwidthGbps: number;
  layers: number;
  layerBytes: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  decodeStepMs: number;
  meanWallMs: number;
  meanStallMs: number;
  meanComputeMs: number;
  layerComputeMs: number[];
  measuredBandwidthGBps: number;
}
interface TorchRun {
  torch: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  decodeStepMs: number;
}

const [work, out, context] = process.argv.slice(2);
if (!work || !out || !context) throw new Error('usage: report.ts WORK_DIR OUT_JSON CONTEXT_JSON');
const read = (f: string): unknown => JSON.parse(readFileSync(join(work, f), 'utf8'));
const base = read('engine-n0.json') as EngineRun;
const offloadBase = read('offload-n0.json') as EngineRun;
const torch = read('torch.json') as TorchRun;
const runs = readdirSync(work)
  .filter((f) => /^offload-n[1-9]\d*\.json$/.test(f))
  .map((f) => read(f) as EngineRun)
  .sort((a, b) => a.interval - b.interval);
const round = (x: number, d = 3) => Number(x.toFixed(d));
const outsideMs = offloadBase.meanWallMs - offloadBase.layerComputeMs.reduce((s, x) => s + x, 0);
const offload = runs.map((r) => {
  const offloaded = Array.from({ length: r.layers }, (_, i) => i).filter(
    (i) => (i + 1) % r.interval === 0,
  );
  const p = predictIteration({
    computeMs: offloadBase.layerComputeMs,
    numLayers: r.layers,
    offloaded,
    copyMs: (r.layerBytes / (r.bandwidthGbps * 1e9)) * 1e3,
    stagingSlots: 2,
    outsideLayersMs: outsideMs,
  });
  // The same timeline at the bandwidth the copy engine actually reached (pacing under contention).
  const atMeasured = predictIteration({
    computeMs: offloadBase.layerComputeMs,
    numLayers: r.layers,
    offloaded,
    copyMs: (r.layerBytes / (Math.max(r.measuredBandwidthGBps, 1e-3) * 1e9)) * 1e3,
    stagingSlots: 2,
    outsideLayersMs: outsideMs,
  });
  return {
    interval: r.interval,
    offloadedLayers: offloaded.length,
    bandwidthGbps: r.bandwidthGbps,
    measuredBandwidthGBps: round(r.measuredBandwidthGBps),
    measuredStepMs: round(r.meanWallMs),
    predictedStepMs: round(p.iterationMs),
    predictionErrorPct: round((100 * (r.meanWallMs - p.iterationMs)) / p.iterationMs, 1),
    predictedStepMsAtMeasuredBandwidth: round(atMeasured.iterationMs),
    measuredStallMs: round(r.meanStallMs),
    predictedStallMs: round(p.stallMs),
    decodeTokensPerSecond: round(r.decodeTokensPerSecond),
  };
});
const result = {
  benchmark: 'engine-cpu',
  command: 'bash bench/engine/run.sh',
  model:
    'random Llama (llama3 RoPE, GQA 16/4), 24 layers, hidden 1024, ffn 2816, vocab 32000, 336M params, fp32',
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ...(JSON.parse(context) as Record<string, number>),
  },
  promptTokens: 128,
  decodeSteps: 32,
  batch: 1,
  engine: {
    prefillTokensPerSecond: round(base.prefillTokensPerSecond),
    decodeTokensPerSecond: round(base.decodeTokensPerSecond),
    decodeStepMs: round(base.decodeStepMs),
  },
  torch: {
    version: torch.torch,
    prefillTokensPerSecond: round(torch.prefillTokensPerSecond),
    decodeTokensPerSecond: round(torch.decodeTokensPerSecond),
    decodeStepMs: round(torch.decodeStepMs),
  },
  decodeRatioVsTorch: round(base.decodeTokensPerSecond / torch.decodeTokensPerSecond),
  prefillRatioVsTorch: round(base.prefillTokensPerSecond / torch.prefillTokensPerSecond),
  offloadThreads: 1,
  offloadBaselineStepMs: round(offloadBase.meanWallMs),
  offload,
};
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
