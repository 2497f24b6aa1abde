// The server's engine port over the real runtime: src/runtime/engine.ts's Model and sample() on an
// OffloadRuntime. The runtime's KV allocator is asynchronous (its calls are queued behind
// iterations) while the scheduler needs a synchronous "no room": the adapter keeps a local store
// of blocks it reserved from the runtime, hands them out synchronously, and between iterations
// tops the store up from the device pool or returns spare blocks when a switch towards less
// offloading waits for device room. It also switches offload sets (the planner's family) when the
// policy asks for another interval, keeps the host set at the plan's N_min, paces copies, and
// turns step telemetry into the port's status.
import type { Logger } from '../log/logger.ts';
import type { OffloadFamily } from '../planner/index.ts';
import { logitsRow, sample, type Model, type SeqStep } from '../runtime/engine.ts';
import { RuntimeError, RuntimeErrorCode, type OffloadRuntime } from '../runtime/index.ts';
import type {
  EnginePort,
  ExecuteBatch,
  ExecuteResult,
  KvPoolPort,
  RuntimeStatus,
  SampledToken,
  SamplingParams,
} from './engine-port.ts';

/** Local store of KV blocks reserved from the runtime; synchronous for the scheduler. */
export class ReservedKvPool implements KvPoolPort {
  readonly blockSize: number;
  /** Reserved and not handed out. */
  readonly spare: number[] = [];
  private readonly used = new Set<number>();
  /** Blocks the pool could hold at the plan's most offloading interval (the context limit). */
  private capacity: number;

  constructor(blockSize: number, capacityBlocks: number) {
    this.blockSize = blockSize;
    this.capacity = capacityBlocks;
  }

  setCapacity(blocks: number): void {
    this.capacity = blocks;
  }

  totalBlocks(): number {
    return Math.max(this.capacity, this.used.size + this.spare.length);
  }

  freeBlocks(): number {
    return this.spare.length;
  }

  usedBlocks(): number {
    return this.used.size;
  }

  allocate(count: number): number[] | null {
    if (count > this.spare.length) return null;
    const out = this.spare.splice(this.spare.length - count, count);
    for (const b of out) this.used.add(b);
    return out;
  }

  free(blocks: readonly number[]): void {
    for (const b of blocks) {
      if (!this.used.delete(b)) throw new Error(`KV block ${b} freed twice or never allocated`);
      this.spare.push(b);
    }
  }
}

export interface EngineAdapterOptions {
  family: OffloadFamily;
  /** Host set in force at construction: the offload set of this interval (0: none). */
  hostInterval: number;
  /** Pacing of copies set by --copy-bandwidth (bytes/s; Infinity: unpaced). */
  basePacingBytesPerS: number;
  /** KV blocks the pool can hold at each interval (index = interval, 0 = none). */
  kvCapacityBlocks: readonly number[];
  /** Bytes of host memory one offloaded layer takes. */
  layerBytes: number;
  /** Pinned host limit (bytes; Infinity: none). */
  hostLimitBytes: number;
  maxModelLen: number;
  /** Fraction of the device budget never reserved for KV (activation growth). */
  scratchHeadroom: number;
  log: Logger;
}

const BANDWIDTH_WINDOW = 64;

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export class EngineAdapter implements EnginePort {
  readonly kv: ReservedKvPool;
  readonly maxModelLen: number;
  readonly slidingWindow?: number;
  private readonly runtime: OffloadRuntime;
  private readonly model: Model;
  private readonly opts: EngineAdapterOptions;
  /** Interval last requested from the runtime (planner encoding). */
  private requested: number;
  private hostInterval: number;
  private pendingHostInterval: number | undefined;
  /** Pinned host limit in force for the planner's checks (bytes; Infinity: none). */
  private hostLimit: number;
  /** A limit the runtime has not taken yet: lowered below what the pool still holds. */
  private pendingRuntimeLimit: number | undefined;
  private pacing: number;
  private budget = Infinity;
  private stallMsTotal = 0;
  private bytesCopiedTotal = 0;
  private bandwidthEwma = 0;
  private readonly bandwidths: number[] = [];
  private closed = false;

  constructor(runtime: OffloadRuntime, model: Model, opts: EngineAdapterOptions) {
    this.runtime = runtime;
    this.model = model;
    this.opts = opts;
    this.maxModelLen = opts.maxModelLen;
    if (model.info.slidingWindow > 0) this.slidingWindow = model.info.slidingWindow;
    this.requested = runtime.switchState().targetInterval;
    this.hostInterval = opts.hostInterval;
    this.hostLimit = opts.hostLimitBytes;
    this.pacing = opts.basePacingBytesPerS;
    this.kv = new ReservedKvPool(model.info.blockSize, this.capacityAt(this.hostInterval));
  }

  /** KV blocks the pool could hold at interval n. */
  capacityAt(n: number): number {
    return this.opts.kvCapacityBlocks[n] ?? 0;
  }

  /** Reserves device KV blocks into the local store (call before serving and between steps). */
  async rebalance(): Promise<void> {
    const sw = this.runtime.switchState();
    if (sw.pending && sw.layersBlocked > 0) {
      // A switch towards less offloading waits for device room: give back every spare block.
      const give = this.kv.spare.splice(0);
      if (give.length > 0) await this.runtime.kvFree(give);
      return;
    }
    const pool = this.runtime.poolStats();
    if (pool.kvBlockBytes <= 0) return;
    // Headroom for activation scratch that a step larger than any profiled one may still need.
    const headroom = pool.budgetBytes * this.opts.scratchHeadroom;
    const room = Math.floor((pool.freeBytes - headroom) / pool.kvBlockBytes);
    if (room <= 0) return;
    let got: number[];
    try {
      got = await this.runtime.kvAlloc(room);
    } catch (error) {
      // Only "no room" is expected here (fragmentation or a concurrent switch); the next
      // boundary tries again. Anything else must not pass for it: blocks would silently vanish.
      if (!isNoRoom(error)) throw error;
      this.opts.log.debug({ err: error, room }, 'KV top-up found no room');
      return;
    }
    // One push per block: push(...got) passes every id as an argument, which overflows the call
    // stack past ~100k blocks (a few GiB of small-model blocks) and lost the whole reservation.
    for (const block of got) this.kv.spare.push(block);
  }

  async execute(batch: ExecuteBatch): Promise<ExecuteResult> {
    await this.switchTo(batch.interval);
    const steps: SeqStep[] = batch.seqs.map((s) => ({
      tokens: Int32Array.from(s.tokenIds),
      nPast: s.startPosition,
      blockIds: Uint32Array.from(s.blockTable),
    }));
    let result;
    try {
      result = await this.model.step(steps);
    } catch (error) {
      // Activation scratch grows on demand and may find the pool full of reserved KV blocks:
      // give the spare blocks back and run the step once more.
      if (!isNoRoom(error) || this.kv.spare.length === 0) throw error;
      this.opts.log.info(
        { spare: this.kv.spare.length },
        'step needed device room; returning spare KV',
      );
      await this.runtime.kvFree(this.kv.spare.splice(0));
      result = await this.model.step(steps);
    }
    const vocab = this.model.info.vocabSize;
    const sampled: SampledToken[] = [];
    batch.seqs.forEach((s, i) => {
      if (!s.sample) return;
      const row = logitsRow(result, vocab, i);
      const r = sample(row, runtimeSampling(s.sampling), {
        prompt: Int32Array.from(s.promptTokenIds),
        output: Int32Array.from(s.outputTokenIds),
        step: s.outputTokenIds.length,
      });
      const token: SampledToken = { requestId: s.requestId, tokenId: r.token };
      if (s.sampling.logprobs !== null) {
        token.logprob = r.logprob;
        token.topLogprobs = r.top.map((t) => ({ tokenId: t.token, logprob: t.logprob }));
      }
      sampled.push(token);
    });
    const t = result.telemetry;
    const stallMs = t.stallUs / 1000;
    this.stallMsTotal += stallMs;
    this.bytesCopiedTotal += t.bytesCopied;
    if (t.bytesCopied > 0 && t.bandwidthBytesPerS > 0) {
      this.bandwidths.push(t.bandwidthBytesPerS);
      if (this.bandwidths.length > BANDWIDTH_WINDOW) this.bandwidths.shift();
      this.bandwidthEwma = t.bandwidthEwma > 0 ? t.bandwidthEwma : t.bandwidthBytesPerS;
    }
    return {
      sampled,
      interval: t.interval,
      elapsedMs: t.wallUs / 1000,
      stallMs,
      bytesCopied: t.bytesCopied,
      copyBandwidthBytesPerS: t.bytesCopied > 0 ? t.bandwidthBytesPerS : 0,
    };
  }

  /** Between iterations: adopt a finished switch, resize the host set, top up or give back KV. */
  async refresh(): Promise<void> {
    if (this.runtime.switchState().pending) await this.runtime.switchPoll();
    // A raised limit goes first so the host set can grow into it; a lowered one after the set
    // shrank (the runtime refuses a limit under what the pool holds).
    await this.applyPendingRuntimeLimit();
    await this.applyPendingHostSet();
    await this.applyPendingRuntimeLimit();
    await this.rebalance();
  }

  /** Requests the offload set of interval n (a raise completes in the background). */
  private async switchTo(n: number): Promise<void> {
    const hostSet = this.opts.family.setsByInterval[this.hostInterval];
    const set = this.opts.family.setsByInterval[n];
    if (set === undefined || hostSet === undefined) {
      throw new RangeError(`interval ${n} has no offload set`);
    }
    if (n !== this.requested && isSubset(set, hostSet)) {
      await this.runtime.setOffloadSet(Array.from(set), n);
      this.requested = n;
    }
    if (this.runtime.switchState().pending) await this.runtime.switchPoll();
  }

  /** Shrinks or grows the host set once the active and requested sets fit in the new one. */
  private async applyPendingHostSet(): Promise<void> {
    const next = this.pendingHostInterval;
    if (next === undefined) return;
    const family = this.opts.family;
    const nextSet = family.setsByInterval[next];
    const sw = this.runtime.switchState();
    const active = family.setsByInterval[sw.activeInterval];
    const target = family.setsByInterval[this.requested];
    if (nextSet === undefined || active === undefined || target === undefined) return;
    if (!isSubset(active, nextSet) || !isSubset(target, nextSet)) return;
    try {
      await this.runtime.setHostSet(Array.from(nextSet));
      this.hostInterval = next;
      this.kv.setCapacity(this.capacityAt(next));
    } catch (error) {
      this.opts.log.error(
        { err: error, interval: next },
        'host set change failed; keeping the old',
      );
    }
    this.pendingHostInterval = undefined;
  }

  status(): RuntimeStatus {
    const pool = this.runtime.poolStats();
    const sw = this.runtime.switchState();
    const L = this.opts.family.numLayers;
    return {
      interval: sw.activeInterval,
      copyBandwidthBytesPerS: this.bandwidthEwma,
      copyBandwidthP10BytesPerS: quantile(this.bandwidths, 0.1),
      bandwidthBudgetBytesPerS: Math.min(this.pacing, this.budget),
      stallMsTotal: this.stallMsTotal,
      bytesCopiedTotal: this.bytesCopiedTotal,
      deviceBytesTotal: pool.budgetBytes,
      deviceBytesUsed: pool.usedBytes - this.kv.spare.length * pool.kvBlockBytes,
      deviceWeightsBytes: pool.weightsBytes,
      deviceStagingBytes: pool.stagingBytes,
      deviceKvBytes: this.kv.usedBlocks() * pool.kvBlockBytes,
      hostBytesTotal: pool.hostLimitBytes > 0 ? pool.hostLimitBytes : pool.hostUsedBytes,
      hostBytesUsed: pool.hostUsedBytes,
      kvBlocksTotal: this.kv.totalBlocks(),
      kvBlocksFree: this.kv.totalBlocks() - this.kv.usedBlocks(),
      offloadedLayers: sw.activeOffloaded,
      residentLayers: L - sw.activeOffloaded,
    };
  }

  setBandwidthBudget(bytesPerS: number): void {
    this.budget = bytesPerS > 0 ? bytesPerS : Infinity;
    this.applyPacing();
  }

  /** Changes the --copy-bandwidth pacing (the bench's mid-run drop); the plan's budget still caps. */
  setPacing(bytesPerS: number): void {
    this.pacing = bytesPerS > 0 ? bytesPerS : Infinity;
    this.applyPacing();
  }

  private applyPacing(): void {
    const rate = Math.min(this.pacing, this.budget);
    this.runtime.setBandwidth(Number.isFinite(rate) ? rate : 0);
  }

  setHostInterval(nMin: number): void {
    const set = this.opts.family.setsByInterval[nMin];
    if (set === undefined) throw new RangeError(`interval ${nMin} has no offload set`);
    const bytes = set.length * this.opts.layerBytes;
    if (bytes > this.hostLimit) {
      throw new Error(
        `the ${set.length} layers offloaded at interval ${nMin} need ${bytes} bytes of host memory, over the ${this.hostLimit}-byte limit`,
      );
    }
    this.pendingHostInterval = nMin === this.hostInterval ? undefined : nMin;
  }

  /** Host limit in force for setHostInterval's check (bytes; Infinity: none). */
  hostLimitBytes(): number {
    return this.hostLimit;
  }

  /**
   * Resizes the pinned host pool's limit (the pod's memory was resized in place). The runtime
   * takes it at the next refresh, a lowered one only once the pool holds no more than it, so the
   * pod releases its pinned memory before the limit (and then the pod's memory) goes down.
   */
  setHostLimit(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`host limit must be > 0 bytes, got ${bytes}`);
    this.hostLimit = bytes;
    this.pendingRuntimeLimit = Number.isFinite(bytes) ? bytes : 0;
  }

  private async applyPendingRuntimeLimit(): Promise<void> {
    const limit = this.pendingRuntimeLimit;
    if (limit === undefined) return;
    if (limit !== 0 && this.runtime.poolStats().hostUsedBytes > limit) return;
    try {
      await this.runtime.setHostLimit(limit);
      this.pendingRuntimeLimit = undefined;
    } catch (error) {
      // The pool grew between the check and the call; the next refresh tries again.
      this.opts.log.warn({ err: error, limit }, 'host limit change deferred');
    }
  }

  /** Returns every reserved block and frees the model and the runtime. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const spare = this.kv.spare.splice(0);
    if (spare.length > 0) await this.runtime.kvFree(spare);
    await this.model.close();
    await this.runtime.close();
  }
}

/** "No device room" from the runtime (the engine may report it under another code). */
function isNoRoom(error: unknown): boolean {
  if (error instanceof RuntimeError && error.code === RuntimeErrorCode.NoDeviceRoom) return true;
  return error instanceof Error && error.message.includes(RuntimeErrorCode.NoDeviceRoom);
}

function isSubset(a: Int32Array, b: Int32Array): boolean {
  const set = new Set(b);
  for (const x of a) if (!set.has(x)) return false;
  return true;
}

function runtimeSampling(p: SamplingParams): Parameters<typeof sample>[1] {
  return {
    temperature: p.temperature,
    topK: p.topK,
    topP: p.topP,
    minP: p.minP,
    repetitionPenalty: p.repetitionPenalty,
    presencePenalty: p.presencePenalty,
    frequencyPenalty: p.frequencyPenalty,
    seed: p.seed,
    topLogprobs: p.logprobs ?? 0,
  };
}
