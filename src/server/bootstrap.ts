// Start-up of the serving pod over the real runtime: load the model, profile its layers over a
// grid of batch shapes (or read a profile file), measure the copy bandwidth, derive the interval
// range and host-memory size with the planner, size the host pool and the KV store, then compose
// the serving core. Phases are reported as they go; readiness follows.
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { WIRE_SCHEMA_VERSION, type PlanningInputs, type PlanWire } from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import {
  PlannerError,
  decoderLayerBytes,
  decoderLayerParams,
  kvBytesPerToken,
  latencyModel,
  measuredProfile,
  modelFromHuggingFaceConfig,
  nonLayerBytes,
  nonLayerParams,
  offloadFamily,
  planIntervalRange,
  validateProfileFile,
  type HardwareDescription,
  type IntervalPlan,
  type LatencyModel,
  type ModelDescription,
  type OffloadFamily,
  type ProfileFile,
} from '../planner/index.ts';
import { loadModel, type Model } from '../runtime/engine.ts';
import {
  RuntimeError,
  RuntimeErrorCode,
  backendCompiled,
  createRuntime,
  type BackendName,
  type OffloadRuntime,
} from '../runtime/index.ts';
import type { ServeConfig } from './config.ts';
import { EngineAdapter } from './engine-adapter.ts';
import type { HardwareInfo } from './engine-port.ts';
import type { Loader } from './lifecycle.ts';
import type { ServerMetrics } from './metrics.ts';
import { intervalToWire, type PlanTarget } from './plan-controller.ts';
import { createPolicy, fixedIntervalOf, type ServingPolicy } from './policies.ts';
import { profileModel } from './profiler.ts';
import { createServing, monotonicClock } from './serving.ts';
import { Phase, type Serving } from './state.ts';
import { TextAdapter } from './text-adapter.ts';
import { atLeastInterval, hostSetWithin, leastHostMemoryFor } from './host-set.ts';

/** Bytes per element of the weight dtypes the engine stores. */
const DTYPE_BYTES = { float32: 4, float16: 2, bfloat16: 2 } as const;

/** Fraction of the device pool never reserved for KV blocks (activation growth). */
const SCRATCH_HEADROOM = 0.05;
/** Tokens per KV block. */
const BLOCK_SIZE = 16;
/** Staging slots the runtime streams offloaded layers through (its default, also planned with). */
const STAGING_SLOTS = 2;
/** Lowest copy bandwidth planned for, as a fraction of the one measured at start-up. */
const BANDWIDTH_FLOOR = 0.25;

export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** `--device cuda` cannot be honoured here (addon without CUDA, or no GPU visible): bad input for
 * this machine, so `selectn serve` exits 2 with this one line rather than 1. */
export class DeviceUnavailableError extends StartupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceUnavailableError';
  }
}

/** `--host-memory` cannot hold the layers the device pool cannot (or the interval asked for):
 * bad input for this pod, so `selectn serve` exits 2 with this one line. */
export class HostMemoryTooSmallError extends StartupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostMemoryTooSmallError';
  }
}

/** A model folder's config.json as the planner's description, named for the API. */
export async function readModelDescription(dir: string, name: string): Promise<ModelDescription> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StartupError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return modelFromHuggingFaceConfig(JSON.parse(text) as unknown, name);
  } catch (error) {
    throw new StartupError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

interface Opened {
  runtime: OffloadRuntime;
  model: Model;
  hostInterval: number;
}

export interface LoadedEngine {
  runtime: OffloadRuntime;
  model: Model;
  backend: BackendName;
  deviceName: string;
  /** The planner's description, with the weight width the engine really uses. */
  description: ModelDescription;
  /** Stored bytes of one decoder layer: decoderLayerBytes(description), equal to the engine's. */
  layerBytes: number;
  family: OffloadFamily;
  deviceBudgetBytes: number;
  /** Interval whose offload set is the host set loaded (every layer without --host-memory). */
  hostInterval: number;
}

function defaultCpuBudget(desc: ModelDescription, config: ServeConfig): number {
  // The checkpoint's dtype is known only once loaded: size for fp32 unless a half one was asked.
  const width = config.dtype === 'auto' ? 4 : DTYPE_BYTES[config.dtype];
  const weights = (desc.numLayers * decoderLayerParams(desc) + nonLayerParams(desc)) * width;
  const kvTokens = Math.min(
    config.maxNumSeqs * (config.maxModelLen ?? desc.maxPositionEmbeddings),
    1 << 16,
  );
  const kv = kvTokens * kvBytesPerToken({ ...desc, dtypeBytes: 4 });
  const activations =
    config.maxNumBatchedTokens * (8 * desc.hiddenSize + 4 * desc.intermediateSize) * 4;
  return Math.ceil(
    (weights + kv + activations + desc.vocabSize * 4 * config.maxNumSeqs * 2) * 1.25,
  );
}

async function pickBackend(config: ServeConfig): Promise<{ backend: BackendName; budget: number }> {
  if (config.device === 'cpu') return { backend: 'cpu', budget: config.deviceMemory ?? 0 };
  if (!backendCompiled('cuda')) {
    if (config.device === 'cuda') {
      throw new DeviceUnavailableError(
        '--device cuda: the native addon was built without CUDA (no CUDA toolkit at build time)',
      );
    }
    return { backend: 'cpu', budget: config.deviceMemory ?? 0 };
  }
  // The arena is reserved at creation: probe for a visible GPU and its capacity first.
  let capacity: number;
  try {
    const probe = await createRuntime({ backend: 'cuda', deviceBudgetBytes: 64 << 20 });
    const info = await probe.info();
    await probe.close();
    capacity = info.deviceCapacityBytes;
  } catch (error) {
    if (config.device === 'cuda') {
      throw new DeviceUnavailableError(
        `--device cuda: no GPU visible (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
    return { backend: 'cpu', budget: config.deviceMemory ?? 0 };
  }
  return { backend: 'cuda', budget: config.deviceMemory ?? Math.floor(capacity * 0.9) };
}

/** "No device room", also where the engine reports it under its own code (activation scratch). */
function isNoDeviceRoom(error: unknown): boolean {
  if (error instanceof RuntimeError && error.code === RuntimeErrorCode.NoDeviceRoom) return true;
  return error instanceof Error && error.message.includes(RuntimeErrorCode.NoDeviceRoom);
}

/** Creates the runtime and loads the model with the host set that host memory allows. */
export async function loadEngine(config: ServeConfig, log: Logger): Promise<LoadedEngine> {
  const dir = resolve(config.model);
  const name = config.modelName ?? basename(dir);
  const desc0 = await readModelDescription(dir, name);
  const picked = await pickBackend(config);
  const budget = picked.budget > 0 ? picked.budget : defaultCpuBudget(desc0, config);
  const family = offloadFamily(
    desc0.numLayers,
    config.layerSelection === 'strided' ? 'every-nth' : 'nested',
  );
  const L = desc0.numLayers;
  // Loads with the host set that `width`-byte weights allow under the limit.
  const within = async (width: ModelDescription['dtypeBytes']): Promise<Opened> => {
    const sized: ModelDescription = { ...desc0, dtypeBytes: width };
    const host = hostSetWithin(family, decoderLayerBytes(sized), config.hostMemory);
    const open = async (offloaded: boolean): Promise<{ runtime: OffloadRuntime; model: Model }> => {
      const runtime = await createRuntime({
        backend: picked.backend,
        deviceBudgetBytes: budget,
        ...(config.hostMemory !== undefined ? { hostPoolLimitBytes: config.hostMemory } : {}),
        ...(config.copyBandwidth !== undefined ? { bandwidthBytesPerS: config.copyBandwidth } : {}),
      });
      try {
        const model = await loadModel(runtime, dir, {
          blockSize: BLOCK_SIZE,
          ...(config.threads !== undefined ? { threads: config.threads } : {}),
          hostSet: host.layers,
          offloadSet: offloaded ? host.layers : [],
          interval: offloaded ? host.interval : 0,
          dtype: config.dtype,
        });
        return { runtime, model };
      } catch (error) {
        await runtime.close();
        throw error;
      }
    };
    let opened: { runtime: OffloadRuntime; model: Model };
    try {
      opened = await open(false);
    } catch (error) {
      if (!isNoDeviceRoom(error)) {
        throw new StartupError(`cannot load ${dir}: ${(error as Error).message}`, { cause: error });
      }
      const limit = config.hostMemory;
      // baseBytes: what the device holds besides decoder layers. Only non-layer weights when the
      // load itself failed (a lower bound); the runtime's own figure once a load succeeded.
      const refuse = (sizes: {
        layerBytes: number;
        baseBytes: number;
        stagingSlots: number;
      }): HostMemoryTooSmallError => {
        const least = leastHostMemoryFor(
          family,
          { ...sizes, deviceBytes: budget },
          host.layers.length,
        );
        return new HostMemoryTooSmallError(
          `--host-memory ${limit} bytes holds ${host.layers.length} of the ${L} decoder layers and the ${budget}-byte device pool cannot hold the other ${L - host.layers.length} with their staging slots: ` +
            (least === undefined
              ? 'no host memory makes them fit this device pool (more --device-memory is needed)'
              : `at least ${least} bytes of host memory are needed`),
        );
      };
      const estimated = {
        layerBytes: decoderLayerBytes(sized),
        baseBytes: nonLayerBytes(sized),
        stagingSlots: STAGING_SLOTS,
      };
      if (limit !== undefined && host.layers.length === 0) throw refuse(estimated);
      log.info(
        { hostInterval: host.interval, offloadedLayers: host.layers.length },
        'the whole model does not fit the device pool; loading with the host set offloaded',
      );
      try {
        opened = await open(true);
      } catch (again) {
        if (limit !== undefined && isNoDeviceRoom(again)) throw refuse(estimated);
        throw new StartupError(`cannot load ${dir}: ${(again as Error).message}`, { cause: again });
      }
      // Offloaded layers run through staging slots, taken at the first iteration: a load that left
      // no room for them would fail later with a less telling error.
      const pool = opened.runtime.poolStats();
      const layerBytes = opened.model.info.layerBytes;
      const staging = Math.min(host.layers.length, pool.stagingSlots) * layerBytes;
      if (limit !== undefined && pool.freeBytes < staging) {
        await opened.model.close().catch(() => undefined);
        await opened.runtime.close();
        throw refuse({
          layerBytes,
          baseBytes: pool.usedBytes - pool.weightsBytes,
          stagingSlots: pool.stagingSlots,
        });
      }
    }
    return { ...opened, hostInterval: host.interval };
  };
  // The stored width is known only once loaded: config.json's (or --dtype's) sizes the host set,
  // and the runtime's hostPoolLimitBytes refuses a load that would exceed the limit. config.json
  // may understate it (without a dtype the planner reads 2 bytes): then size for the widest the
  // engine stores (float32) and load again.
  const stated = config.dtype === 'auto' ? desc0.dtypeBytes : DTYPE_BYTES[config.dtype];
  let opened: Opened;
  try {
    opened = await within(stated);
  } catch (error) {
    const widest = DTYPE_BYTES.float32;
    const understated =
      config.hostMemory !== undefined &&
      config.dtype === 'auto' &&
      stated < widest &&
      error instanceof Error &&
      error.message.includes(RuntimeErrorCode.OutOfHostMemory);
    if (!understated) throw error;
    log.info(
      { statedBytes: stated },
      'config.json understates the stored width; sizing the host set for float32',
    );
    opened = await within(widest);
  }
  const info = opened.model.info;
  const rtInfo = await opened.runtime.info();
  // The engine's stored dtype (config.json may not say, and --dtype may differ from it). Planner,
  // host-pool sizing, runtime and telemetry all use the one figure decoderLayerBytes gives; the
  // engine's own layout must agree with it, or some shape was read differently.
  const description: ModelDescription = { ...desc0, dtypeBytes: DTYPE_BYTES[info.dtype] };
  const layerBytes = decoderLayerBytes(description);
  if (layerBytes !== info.layerBytes) {
    await opened.runtime.close();
    throw new StartupError(
      `${dir}: the engine stores ${info.layerBytes} bytes per decoder layer (${info.dtype}) but the planner's description of config.json gives ${layerBytes}`,
    );
  }
  log.info(
    {
      backend: rtInfo.backend,
      device: rtInfo.device,
      deviceBudgetBytes: budget,
      dtype: info.dtype,
      layerBytes,
      layers: info.layers,
    },
    'backend %s on %s, device pool %d bytes, weights stored in %s',
    rtInfo.backend,
    rtInfo.device,
    budget,
    info.dtype,
  );
  return {
    ...opened,
    backend: rtInfo.backend,
    deviceName: rtInfo.device,
    description,
    layerBytes,
    family,
    deviceBudgetBytes: budget,
  };
}

/**
 * Runs the largest iteration the scheduler may build (the full token budget over the most
 * sequences), so that activation scratch has grown before KV blocks are reserved. Profiling does
 * this on its own; a profile read from a file does not.
 */
async function warmScratch(
  engine: LoadedEngine,
  config: ServeConfig,
  maxModelLen: number,
): Promise<void> {
  const { runtime, model } = engine;
  const seqs = Math.max(1, Math.min(config.maxNumSeqs, config.maxNumBatchedTokens));
  const per = Math.max(1, Math.min(Math.floor(config.maxNumBatchedTokens / seqs), maxModelLen));
  const perBlocks = model.blocksFor(per);
  const blocks = await runtime.kvAlloc(perBlocks * seqs);
  try {
    await model.step(
      Array.from({ length: seqs }, (_, s) => ({
        tokens: new Int32Array(per).fill(1),
        nPast: 0,
        blockIds: Uint32Array.from(blocks.slice(s * perBlocks, (s + 1) * perBlocks)),
      })),
    );
  } finally {
    await runtime.kvFree(blocks);
  }
}

/** Copy bandwidth measured over runs of the copy path with the smallest offload set. */
async function measureBandwidth(engine: LoadedEngine): Promise<number> {
  const { runtime, family } = engine;
  const L = engine.description.numLayers;
  const before = runtime.switchState().targetInterval;
  // The fewest layers the host set allows copying (--host-memory may hold only some of them).
  const hostSet = family.setsByInterval[engine.hostInterval] ?? new Int32Array(0);
  let one: Int32Array | undefined;
  let oneInterval = L;
  for (let n = L; n >= 1 && one === undefined; n--) {
    const set = family.setsByInterval[n];
    if (set !== undefined && set.length > 0 && isSubset(set, hostSet)) {
      one = set;
      oneInterval = n;
    }
  }
  if (one === undefined) return 0;
  await runtime.setOffloadSet(Array.from(one), oneInterval);
  await runtime.switchWait(60_000);
  const seen: number[] = [];
  for (let r = 0; r < 4; r++) {
    const t = await runtime.runIteration();
    if (t.bytesCopied > 0 && t.bandwidthBytesPerS > 0) seen.push(t.bandwidthBytesPerS);
  }
  const back = family.setsByInterval[before] ?? new Int32Array(0);
  await runtime.setOffloadSet(Array.from(back), before);
  await runtime.switchWait(600_000);
  seen.sort((a, b) => a - b);
  return seen[Math.floor(seen.length / 2)] ?? 0;
}

function isSubset(set: Int32Array, of: Int32Array): boolean {
  const members = new Set(of);
  return set.every((layer) => members.has(layer));
}

/** Hardware description for the planner, from the measurements (not a catalog). */
function hardwareFrom(
  engine: LoadedEngine,
  profile: ProfileFile,
  bandwidth: number,
): HardwareDescription {
  const desc = engine.description;
  const layerBytes = engine.layerBytes;
  let bestFlops = 1;
  let bestBytes = 1;
  for (const p of profile.points) {
    const ms = (p.layerMs ?? []).reduce((a, b) => a + b, 0);
    if (ms <= 0) continue;
    bestFlops = Math.max(
      bestFlops,
      (2 * decoderLayerParams(desc) * desc.numLayers * p.newTokens) / (ms / 1000),
    );
    bestBytes = Math.max(bestBytes, (layerBytes * desc.numLayers) / (ms / 1000));
  }
  return {
    name: profile.hardware.name,
    gpuMemoryBytes: engine.deviceBudgetBytes,
    memoryBandwidthBytesPerS: bestBytes,
    peakFlopsPerS: bestFlops,
    hostLink: {
      name: engine.backend === 'cpu' ? 'cpu arena copy' : 'host link',
      minBytesPerS: bandwidth * BANDWIDTH_FLOOR,
      maxBytesPerS: bandwidth,
    },
    source: 'measured at start-up by selectn serve',
  };
}

export interface EngineSetup {
  engine: LoadedEngine;
  adapter: EngineAdapter;
  text: TextAdapter;
  policy: ServingPolicy;
  latency: LatencyModel;
  profile: ProfileFile;
  plan: IntervalPlan | undefined;
  initialPlan: PlanWire;
  planTarget: PlanTarget;
  hardware: HardwareInfo;
  bandwidthBytesPerS: number;
  maxModelLen: number;
}

/** Hardware name used in profiles: backend and device. */
export function hardwareName(engine: LoadedEngine): string {
  return `${engine.backend}:${engine.deviceName}`;
}

/** Profiles the loaded model with the serve config's limits. */
export function profileLoaded(
  engine: LoadedEngine,
  config: ServeConfig,
  log: Logger,
): Promise<ProfileFile> {
  const maxModelLen = Math.min(config.maxModelLen ?? Infinity, engine.model.info.maxPositions);
  return profileModel(
    engine.runtime,
    engine.model,
    {
      maxNumSeqs: config.maxNumSeqs,
      maxNumBatchedTokens: config.maxNumBatchedTokens,
      maxModelLen,
      modelName: engine.description.name,
      hardwareName: hardwareName(engine),
      device: engine.deviceName,
    },
    (point, index, total) => {
      log.debug({ point: { ...point, layerMs: undefined }, index, total }, 'profiled shape');
    },
  );
}

async function readProfile(path: string): Promise<ProfileFile> {
  try {
    return validateProfileFile(JSON.parse(await readFile(path, 'utf8')) as unknown);
  } catch (error) {
    throw new StartupError(`--profile-file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Everything after loading: profile, plan, host set, KV store, policy. */
export async function setUpEngine(
  config: ServeConfig,
  log: Logger,
  setPhase: (phase: Phase) => void,
): Promise<EngineSetup> {
  setPhase(Phase.LOADING);
  const engine = await loadEngine(config, log);
  try {
    return await finishSetup(engine, config, log, setPhase);
  } catch (error) {
    await engine.model.close().catch(() => undefined);
    await engine.runtime.close().catch(() => undefined);
    throw error;
  }
}

async function finishSetup(
  engine: LoadedEngine,
  config: ServeConfig,
  log: Logger,
  setPhase: (phase: Phase) => void,
): Promise<EngineSetup> {
  const { runtime, model, description: desc, family } = engine;
  const info = model.info;
  const L = info.layers;
  const maxModelLen = Math.min(config.maxModelLen ?? info.maxPositions, info.maxPositions);

  setPhase(Phase.PROFILING);
  const profile =
    config.profileFile !== undefined
      ? await readProfile(config.profileFile)
      : await profileLoaded(engine, config, log);
  let layerProfile;
  try {
    layerProfile = measuredProfile(profile, desc);
  } catch (error) {
    throw new StartupError(`profile: ${(error as Error).message}`, { cause: error });
  }
  if (config.profileFile !== undefined) await warmScratch(engine, config, maxModelLen);
  const bandwidth = (await measureBandwidth(engine)) || (config.copyBandwidth ?? 0);
  log.info({ points: profile.points.length, bandwidthBytesPerS: bandwidth }, 'profiled');

  setPhase(Phase.PLANNING);
  const pattern = config.layerSelection === 'strided' ? 'every-nth' : 'nested';
  const latency = latencyModel(desc, layerProfile, { stagingSlots: 2, pattern });
  const hardware = hardwareFrom(engine, profile, bandwidth > 0 ? bandwidth : 1);
  // The operator re-plans this pod from these same inputs (telemetry `planning`), so that the
  // two plans can differ only in what the operator changes (SLO, bounds, bandwidth, memory).
  const planning: PlanningInputs = {
    model: { ...desc },
    hardware: { ...hardware, hostLink: { ...hardware.hostLink } },
    profile: { ...profile },
    workload: {
      batchSizes: [...new Set([1, Math.max(1, config.maxNumSeqs >> 2), config.maxNumSeqs])],
      contextLengths: [...new Set([Math.max(1, maxModelLen >> 2), maxModelLen])],
      prefillChunkTokens: Math.min(config.maxNumBatchedTokens, maxModelLen),
    },
    options: {
      gpuMemoryUtilization: 1 - SCRATCH_HEADROOM,
      stagingSlots: 2,
      maxBatchTokens: config.maxNumBatchedTokens,
      pattern,
    },
    copyBandwidthBytesPerSecond: bandwidth,
  };
  let plan: IntervalPlan | undefined;
  try {
    plan = planIntervalRange({
      model: desc,
      hardware,
      profile: layerProfile,
      slo: { ttftMs: config.sloTtftMs, tpotMs: config.sloTpotMs },
      workload: planning.workload,
      options: {
        ...planning.options,
        bandwidthBytesPerS: {
          min: hardware.hostLink.minBytesPerS,
          max: hardware.hostLink.maxBytesPerS,
        },
      },
    });
    log.info(
      {
        intervalMin: plan.intervalMin,
        intervalMax: plan.intervalMax,
        hostMemoryBytes: plan.hostMemoryBytes,
      },
      'planned',
    );
  } catch (error) {
    if (!(error instanceof PlannerError)) throw error;
    log.warn(
      { err: error },
      'the planner found no range for the whole envelope; allowing every interval',
    );
  }
  const fixed = fixedIntervalOf(config.policy, L);
  let rangeMin = config.intervalMin ?? plan?.intervalMin ?? 1;
  let rangeMax = config.intervalMax ?? plan?.intervalMax ?? 0;
  if (rangeMin > L) rangeMin = L;
  if (rangeMax > L) rangeMax = L;
  if (config.intervalMin !== undefined && config.intervalMax === undefined)
    rangeMax = plan?.intervalMax ?? 0;
  if (fixed !== undefined) {
    rangeMin = fixed;
    rangeMax = fixed;
  }
  if (config.hostMemory !== undefined) {
    // Nothing below the host set loaded within --host-memory fits the pod's host memory.
    const floor = engine.hostInterval;
    const asked = fixed ?? config.intervalMin;
    if (asked !== undefined && atLeastInterval(asked, floor) !== asked) {
      const bytes = (family.setsByInterval[asked]?.length ?? 0) * engine.layerBytes;
      throw new HostMemoryTooSmallError(
        `interval ${asked} offloads layers of ${bytes} bytes, over --host-memory ${config.hostMemory} bytes`,
      );
    }
    if (atLeastInterval(rangeMin, floor) !== rangeMin) {
      log.info(
        { plannedMin: rangeMin, hostInterval: floor, hostMemoryBytes: config.hostMemory },
        'interval.min raised to the most offloading set --host-memory holds',
      );
    }
    rangeMin = atLeastInterval(rangeMin, floor);
    rangeMax = atLeastInterval(rangeMax, rangeMin);
  }
  // Host memory holds the most offloading set the policy may use.
  const hostInterval = fixed ?? rangeMin;
  const hostSet = family.setsByInterval[hostInterval] ?? new Int32Array(0);
  // The host set must contain the offload set in force: leave the load's set for this one first.
  const active = family.setsByInterval[runtime.switchState().targetInterval] ?? new Int32Array(0);
  if (!isSubset(active, hostSet)) {
    try {
      await runtime.setOffloadSet(Array.from(hostSet), hostInterval);
      await runtime.switchWait(600_000);
    } catch (error) {
      throw new StartupError(
        `the device pool cannot hold the layers interval ${hostInterval} keeps resident: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  try {
    await runtime.setHostSet(Array.from(hostSet));
  } catch (error) {
    throw new StartupError(
      `host pool cannot hold the ${hostSet.length} layers offloaded at interval ${hostInterval}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  // KV capacity at every interval, from the runtime's own accounting.
  const pool = runtime.poolStats();
  const headroom = pool.budgetBytes * SCRATCH_HEADROOM;
  const capacityBlocks: number[] = [];
  for (let n = 0; n <= L; n++) {
    const free = await runtime.kvBytesFreeFor(Array.from(family.setsByInterval[n] ?? []));
    capacityBlocks.push(
      Math.max(0, Math.floor((free + pool.kvBytes - headroom) / info.kvBlockBytes)),
    );
  }
  const adapter = new EngineAdapter(runtime, model, {
    family,
    hostInterval,
    basePacingBytesPerS: config.copyBandwidth ?? Infinity,
    kvCapacityBlocks: capacityBlocks,
    layerBytes: engine.layerBytes,
    hostLimitBytes: config.hostMemory ?? Infinity,
    maxModelLen,
    scratchHeadroom: SCRATCH_HEADROOM,
    log: log.child({ component: 'engine-adapter' }),
  });
  await adapter.rebalance();

  const policy = createPolicy(
    config.policy,
    {
      latency,
      kvCapacityAt: (n) => (capacityBlocks[n] ?? 0) * info.blockSize,
      slo: { ttftMs: config.sloTtftMs, tpotMs: config.sloTpotMs },
      blockSize: info.blockSize,
      fallbackBandwidthBytesPerS: bandwidth > 0 ? bandwidth : 1e9,
    },
    { min: rangeMin, max: rangeMax },
  );
  const hostBytesFor = (n: number): number =>
    (family.setsByInterval[n]?.length ?? 0) * engine.layerBytes;
  const initialPlan: PlanWire = {
    schemaVersion: WIRE_SCHEMA_VERSION,
    generation: 0,
    interval: { min: intervalToWire(rangeMin), max: intervalToWire(rangeMax) },
    hostMemoryBytes: Math.max(config.hostMemory ?? 0, hostBytesFor(hostInterval)),
    bandwidthBudgetBytesPerSecond: null,
    layerSelection: config.layerSelection,
    basis:
      plan === undefined
        ? 'start-up: every interval (planner found no range)'
        : `start-up profile (${profile.points.length} shapes) and planner`,
    issuedAt: new Date().toISOString(),
  };
  const planTarget: PlanTarget = {
    numLayers: L,
    hostBytesFor,
    setRange: (min, max) => {
      policy.setRange(min, max);
    },
    setHostInterval: (n) => {
      adapter.setHostInterval(fixed ?? n);
    },
    hostLimitBytes: () => adapter.hostLimitBytes(),
    setHostLimit: (bytes) => {
      adapter.setHostLimit(bytes);
    },
    setBandwidthBudget: (b) => {
      adapter.setBandwidthBudget(b);
    },
  };
  const text = await TextAdapter.fromDir(resolve(config.model), info);
  return {
    engine,
    adapter,
    text,
    policy,
    latency,
    profile,
    plan,
    initialPlan,
    planTarget,
    hardware: {
      backend: engine.backend,
      deviceName: engine.deviceName,
      pciBusId: null,
      planning,
    },
    bandwidthBytesPerS: bandwidth,
    maxModelLen,
  };
}

/** The production loader of `selectn serve`. */
export function productionLoader(config: ServeConfig, logger: Logger): Loader {
  return async (metrics: ServerMetrics, setPhase: (phase: Phase) => void) => {
    const setup = await setUpEngine(config, logger, setPhase);
    const serving: Serving = createServing({
      config: { ...config, maxModelLen: setup.maxModelLen },
      engine: setup.adapter,
      text: setup.text,
      policy: setup.policy,
      planTarget: setup.planTarget,
      initialPlan: setup.initialPlan,
      modelName: setup.engine.description.name,
      modelInfo: {
        numLayers: setup.engine.model.info.layers,
        layerBytes: setup.engine.layerBytes,
        dtype: setup.engine.model.info.dtype,
      },
      clock: monotonicClock,
      logger,
      metrics,
    });
    return {
      serving,
      hardware: setup.hardware,
      close: () => setup.adapter.close(),
    };
  };
}
