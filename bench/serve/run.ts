// Serving benchmark (issue 6): the real serving core (scheduler, engine loop, engine adapter,
// native runtime, CPU backend) under each interval policy, on a seeded trace with a load burst
// and, halfway, a drop of the paced copy bandwidth. The device pool is capped and copies are
// paced so that the ratios of llama-13b (fp16) on a 40 GB A100 over PCIe 4 hold at small scale,
// the reference figures taken from the planner's catalog and analytic profile:
//   weights / device memory = 26 GB / 40 GB = 0.65
//   layer copy time / layer decode time (batch 1, context 256): 0.634 GB at 24 GB/s = 26.4 ms
//     over 0.54 ms (HBM at 80% of 1555 GB/s) = 48.6 (the HBM/PCIe peak ratio, 78, overstates it)
//   SLO in layer copies: the planner's A100 runs use TTFT 2 s / TPOT 100 ms = 75.7 / 3.78 copies
//   the bandwidth drop: to the catalog's PCIe 4 minimum (12 of 24 GB/s, two GPUs on one switch)
// Requests enter the engine loop in process (the HTTP layer is tested elsewhere); time is real.
//   node bench/serve/make-model.ts --out ~/.cache/selectn/bench-llama-kv2
//   node bench/serve/run.ts --duration 40 --seed 42
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { createLogger } from '../../src/log/logger.ts';
import {
  analyticProfile,
  builtinHardware,
  builtinModel,
  decoderLayerBytes,
  decoderLayerParams,
  nonLayerParams,
  percentile,
  validateProfileFile,
} from '../../src/planner/index.ts';
import {
  loadEngine,
  profileLoaded,
  readModelDescription,
  setUpEngine,
} from '../../src/server/bootstrap.ts';
import { parseServeConfig, type ServeConfig } from '../../src/server/config.ts';
import type { SamplingParams } from '../../src/server/engine-port.ts';
import { createServing, monotonicClock } from '../../src/server/serving.ts';
import { PALETTE } from '../../src/cli/plot/svg.ts';
import { makeTrace } from './trace.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(homedir(), '.cache', 'selectn', 'bench-llama-kv2') },
    out: { type: 'string', default: 'bench/results/serve-cpu.json' },
    svg: { type: 'string', default: 'bench/results/serve-cpu.svg' },
    duration: { type: 'string', default: '30' },
    seed: { type: 'string', default: '42' },
    'base-rate': { type: 'string', default: '0.3' },
    'burst-rate': { type: 'string', default: '1' },
    policies: {
      type: 'string',
      default: 'select-n,fixed-n-2,fixed-n-4,fixed-n-6,no-offload,full-streaming',
    },
  },
});
// The reference: llama-13b on an A100 40 GB over PCIe 4, as the planner models it.
const refModel = builtinModel('llama-13b');
const refHardware = builtinHardware('a100-40gb');
const refCopyMs = (decoderLayerBytes(refModel) / refHardware.hostLink.maxBytesPerS) * 1000;
const refLayerMs = new Float64Array(refModel.numLayers);
analyticProfile(refModel, refHardware).fillLayerComputeMs(
  { sequences: 1, newTokens: 1, contextTokens: 256 },
  refLayerMs,
);
const COPY_OVER_DECODE = refCopyMs / (refLayerMs[0] ?? 1);
const REF_SLO = { ttftMs: 2000, tpotMs: 100 };
const DROP = refHardware.hostLink.minBytesPerS / refHardware.hostLink.maxBytesPerS;
const WEIGHTS_OVER_DEVICE = 26 / 40;
const durationS = Number(values.duration);
const BASE_RATE = Number(values['base-rate']);
const BURST_RATE = Number(values['burst-rate']);
if (!(BASE_RATE > 0 && BURST_RATE > 0)) throw new Error('--base-rate, --burst-rate: must be > 0');
const loadBefore = loadavg();
const log = createLogger({ level: 'warn', name: 'bench-serve' });

const base = {
  model: values.model,
  device: 'cpu',
  threads: 1,
  maxNumSeqs: 32,
  maxNumBatchedTokens: 32,
  maxModelLen: 512,
  logLevel: 'warn',
};
const configOf = (extra: Record<string, unknown>): ServeConfig =>
  parseServeConfig({
    flags: { ...base, sloTtftMs: 1, sloTpotMs: 1, ...extra },
    env: {},
    envNames: SERVE_ENV_NAMES,
  });

// 1. Profile once (the same pass as start-up), then derive the emulated hardware from it.
const desc = await readModelDescription(values.model, 'bench-llama');
const weights = (desc.numLayers * decoderLayerParams(desc) + nonLayerParams(desc)) * 4;
const layerBytes = decoderLayerParams(desc) * 4;
const profilePath = join(
  homedir(),
  '.cache',
  'selectn',
  `${basename(values.model)}-serve-profile.json`,
);
{
  const engine = await loadEngine(configOf({}), log);
  writeFileSync(profilePath, JSON.stringify(await profileLoaded(engine, configOf({}), log)));
  await engine.model.close();
  await engine.runtime.close();
}
const profile = validateProfileFile(JSON.parse(readFileSync(profilePath, 'utf8')) as unknown);
// The batch-1 decode point nearest the reference's context of 256 tokens.
const b1 = profile.points
  .filter((p) => p.newTokens === 1)
  .sort((a, b) => Math.abs(a.contextTokens - 256) - Math.abs(b.contextTokens - 256))[0];
const layerDecodeMs = (b1?.layerMs ?? []).reduce((a, b) => a + b, 0) / desc.numLayers;
const decodeMs = layerDecodeMs * desc.numLayers + (b1?.outsideLayersMs ?? 0);
const pacing = Math.round(layerBytes / (layerDecodeMs / 1000) / COPY_OVER_DECODE);
const deviceMemory = Math.round(weights / WEIGHTS_OVER_DEVICE);
const copyMs = (layerBytes / pacing) * 1000;
// The reference SLO in units of one layer copy.
const slo = {
  ttftMs: Math.round((REF_SLO.ttftMs / refCopyMs) * copyMs),
  tpotMs: Math.round((REF_SLO.tpotMs / refCopyMs) * copyMs),
};
console.log(
  `layer ${(layerBytes / 2 ** 20).toFixed(2)} MiB, decode (batch 1) ${decodeMs.toFixed(1)} ms, layer ${layerDecodeMs.toFixed(3)} ms, ` +
    `pacing ${(pacing / 1e6).toFixed(1)} MB/s (copy ${((layerBytes / pacing) * 1000).toFixed(1)} ms/layer), ` +
    `device ${(deviceMemory / 2 ** 20).toFixed(1)} MiB, SLO ttft ${slo.ttftMs} ms tpot ${slo.tpotMs} ms`,
);

// 2. The seeded trace: base rate, a burst from 30% to 50% of the run, bandwidth drop at 50%.
const trace = makeTrace({
  seed: Number(values.seed),
  durationS,
  baseRate: BASE_RATE,
  burstRate: BURST_RATE,
});

const greedy: SamplingParams = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  seed: 0,
  logprobs: null,
};

interface Outcome {
  ttftMs: number;
  tpotMs: number;
  tokens: number;
  met: boolean;
  finished: boolean;
}

async function runPolicy(policy: string): Promise<Record<string, unknown>> {
  const config = configOf({
    policy,
    deviceMemory,
    copyBandwidth: pacing,
    profileFile: profilePath,
    sloTtftMs: slo.ttftMs,
    sloTpotMs: slo.tpotMs,
  });
  const setup = await setUpEngine(config, log, () => undefined);
  const serving = createServing({
    config: { ...config, maxModelLen: setup.maxModelLen },
    engine: setup.adapter,
    text: setup.text,
    policy: setup.policy,
    planTarget: setup.planTarget,
    initialPlan: setup.initialPlan,
    modelName: 'bench-llama',
    modelInfo: { numLayers: desc.numLayers, layerBytes, dtype: 'float32' },
    clock: monotonicClock,
    logger: log,
  });
  const kvTokens = (n: number): number => setup.adapter.capacityAt(n) * 16;
  console.log(
    `${policy}: KV capacity ${kvTokens(0)} tokens at N=0, ${kvTokens(2)} at N=2, ${kvTokens(1)} at N=1; range ${JSON.stringify(setup.initialPlan.interval)}`,
  );
  const intervals = new Map<number, number>();
  let preemptions = 0;
  let batchSum = 0;
  const refusals: Record<string, number> = {};
  serving.engine.observe({
    onIteration: (r) => {
      intervals.set(r.result.interval, (intervals.get(r.result.interval) ?? 0) + 1);
      preemptions = r.preemptionsTotal;
      batchSum += r.output.seqs.length;
      for (const d of r.output.refused) {
        const reason = (d.reason ?? 'unknown').split(':')[0] ?? 'unknown';
        refusals[reason] = (refusals[reason] ?? 0) + 1;
      }
    },
  });
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  const done = trace.map(
    (item, i) =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          const arrival = performance.now();
          let first: number | undefined;
          let tokens = 0;
          serving.engine.add(
            {
              id: `r${i}`,
              promptTokenIds: item.prompt,
              maxTokens: item.maxTokens,
              sampling: greedy,
              stopTokenIds: [],
              arrivalMs: monotonicClock.now(),
            },
            {
              onOutput: (o) => {
                if (o.newTokenIds.length > 0) {
                  first ??= performance.now();
                  tokens += o.newTokenIds.length;
                }
                if (o.finishReason === undefined) return;
                const end = performance.now();
                const ttftMs = (first ?? end) - arrival;
                const tpotMs = tokens > 1 ? (end - (first ?? end)) / (tokens - 1) : 0;
                const finished = o.finishReason === 'length' || o.finishReason === 'stop';
                outcomes.push({
                  ttftMs,
                  tpotMs,
                  tokens,
                  finished,
                  met: finished && ttftMs <= slo.ttftMs && tpotMs <= slo.tpotMs,
                });
                resolve();
              },
            },
          );
        }, item.atMs);
      }),
  );
  const drop = setTimeout(
    () => {
      setup.adapter.setPacing(pacing * DROP);
    },
    0.5 * durationS * 1000,
  );
  // Requests still unfinished at twice the trace's length are aborted and count as misses, so
  // that a policy which cannot keep up ends in bounded time.
  const cutoff = setTimeout(
    () => {
      trace.forEach((_, i) => {
        serving.engine.abort(`r${i}`);
      });
    },
    2 * durationS * 1000,
  );
  await Promise.all(done);
  clearTimeout(drop);
  clearTimeout(cutoff);
  const makespanS = (performance.now() - t0) / 1000;
  await serving.engine.stop();
  await setup.adapter.close();
  const total = outcomes.reduce((a, o) => a + o.tokens, 0);
  const good = outcomes.filter((o) => o.met).reduce((a, o) => a + o.tokens, 0);
  const iterations = [...intervals.values()].reduce((a, b) => a + b, 0);
  const result = {
    policy,
    throughputTokensPerS: total / makespanS,
    goodputTokensPerS: good / makespanS,
    sloAttainment: outcomes.filter((o) => o.met).length / outcomes.length,
    ttftP99Ms: percentile(
      outcomes.map((o) => o.ttftMs),
      99,
    ),
    tpotP99Ms: percentile(
      outcomes.map((o) => o.tpotMs),
      99,
    ),
    requests: outcomes.length,
    failed: outcomes.filter((o) => !o.finished).length,
    makespanS,
    preemptions,
    admissionRefusals: refusals,
    timeScaleAtEnd: Number(setup.policy.timeScale.toFixed(3)),
    meanBatch:
      batchSum /
      Math.max(
        1,
        [...intervals.values()].reduce((a, b) => a + b, 0),
      ),
    kvCapacityTokens: { none: kvTokens(0), n2: kvTokens(2), n1: kvTokens(1) },
    intervalRange: setup.initialPlan.interval,
    intervalIterations: Object.fromEntries([...intervals].sort((a, b) => a[0] - b[0])),
    meanOffloadedLayers:
      [...intervals].reduce(
        (a, [n, c]) => a + c * (setup.engine.family.setsByInterval[n]?.length ?? 0),
        0,
      ) / Math.max(1, iterations),
  };
  console.log(JSON.stringify(result));
  return result;
}

const results: Record<string, unknown>[] = [];
for (const policy of values.policies.split(',')) results.push(await runPolicy(policy));

writeFileSync(
  values.out,
  `${JSON.stringify(
    {
      benchmark: 'serve-cpu',
      command: `node bench/serve/run.ts --duration ${durationS} --seed ${values.seed} --base-rate ${BASE_RATE} --burst-rate ${BURST_RATE}`,
      createdAt: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        loadAverageBefore: loadBefore.map((v) => Number(v.toFixed(2))),
        loadAverageAfter: loadavg().map((v) => Number(v.toFixed(2))),
      },
      setup: {
        model: {
          layers: desc.numLayers,
          hidden: desc.hiddenSize,
          weightsBytes: weights,
          layerBytes,
        },
        deviceMemoryBytes: deviceMemory,
        pacingBytesPerS: pacing,
        pacingAfterDropBytesPerS: Math.round(pacing * DROP),
        batch1DecodeMs: decodeMs,
        layerCopyMs: copyMs,
        ratios: {
          weightsOverDevice: WEIGHTS_OVER_DEVICE,
          layerCopyOverLayerDecode: Number(COPY_OVER_DECODE.toFixed(2)),
          bandwidthAfterDrop: DROP,
          reference: 'llama-13b fp16 on a100-40gb, PCIe 4 (planner catalog, analytic profile)',
        },
        slo,
        trace: {
          requests: trace.length,
          durationS,
          seed: Number(values.seed),
          baseRate: BASE_RATE,
          burstRate: BURST_RATE,
        },
      },
      policies: results,
    },
    null,
    2,
  )}\n`,
);

// Plot: throughput (all tokens) and goodput (tokens of requests within SLO) per policy, with
// SLO attainment written above each pair of bars.
const W = 760;
const Hh = 360;
const left = 60;
const bottom = 300;
const maxY = Math.max(...results.map((r) => Number(r['throughputTokensPerS']))) * 1.15;
const slot = (W - left - 20) / results.length;
const y = (v: number): number => bottom - (v / maxY) * (bottom - 40);
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" font-family="sans-serif" font-size="12">`,
  `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">selectn serve on the CPU backend: tokens/s per policy (13B-on-40GB ratios)</text>`,
  `<line x1="${left}" y1="${bottom}" x2="${W - 10}" y2="${bottom}" stroke="#333"/>`,
  `<line x1="${left}" y1="40" x2="${left}" y2="${bottom}" stroke="#333"/>`,
];
for (let k = 0; k <= 4; k++) {
  const v = (maxY * k) / 4;
  parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
}
results.forEach((r, i) => {
  const x = left + i * slot + slot * 0.15;
  const bw = slot * 0.32;
  const tput = Number(r['throughputTokensPerS']);
  const good = Number(r['goodputTokensPerS']);
  parts.push(
    `<rect x="${x}" y="${y(tput)}" width="${bw}" height="${bottom - y(tput)}" fill="${PALETTE[1]}"/>`,
    `<rect x="${x + bw}" y="${y(good)}" width="${bw}" height="${bottom - y(good)}" fill="${PALETTE[0]}"/>`,
    `<text x="${x + bw}" y="${y(tput) - 6}" text-anchor="middle">${(Number(r['sloAttainment']) * 100).toFixed(1)}%</text>`,
    `<text x="${x + bw}" y="${bottom + 16}" text-anchor="middle">${String(r['policy'])}</text>`,
  );
});
parts.push(
  `<rect x="${left + 10}" y="${Hh - 30}" width="12" height="12" fill="${PALETTE[1]}"/><text x="${left + 26}" y="${Hh - 20}">throughput (tokens/s)</text>`,
  `<rect x="${left + 190}" y="${Hh - 30}" width="12" height="12" fill="${PALETTE[0]}"/><text x="${left + 206}" y="${Hh - 20}">goodput: tokens/s of requests within SLO (label: SLO attainment)</text>`,
  '</svg>',
);
writeFileSync(values.svg, `${parts.join('\n')}\n`);
