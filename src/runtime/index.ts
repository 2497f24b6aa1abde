// Typed wrapper of the native offload runtime (native/binding, Node-API). The only TypeScript that
// touches the addon. Every call that changes runtime state is queued so that calls never overlap
// (the native runtime serializes its callers); long work (create, layer load, iterations, switch
// waits) runs on libuv worker threads. Native failures become RuntimeError with a stable `code`.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Error codes of the native runtime (the C enum sn_status). */
export const RuntimeErrorCode = {
  InvalidArgument: 'SN_ERR_INVALID_ARGUMENT',
  OutOfHostMemory: 'SN_ERR_OUT_OF_HOST_MEMORY',
  HostLock: 'SN_ERR_HOST_LOCK',
  NoDeviceRoom: 'SN_ERR_NO_DEVICE_ROOM',
  State: 'SN_ERR_STATE',
  Backend: 'SN_ERR_BACKEND',
  Unsupported: 'SN_ERR_UNSUPPORTED',
  Timeout: 'SN_ERR_TIMEOUT',
  AddonMissing: 'SN_ERR_ADDON_MISSING',
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

const knownCodes = new Set<string>(Object.values(RuntimeErrorCode));

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string) {
    super(message);
    this.name = 'RuntimeError';
    this.code = code;
  }
}

function toRuntimeError(err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && knownCodes.has(code)) {
      return new RuntimeError(code as RuntimeErrorCode, err.message);
    }
    return new RuntimeError(RuntimeErrorCode.Backend, err.message);
  }
  return new RuntimeError(RuntimeErrorCode.Backend, String(err));
}

export type BackendName = 'cpu' | 'cuda';

export interface RuntimeConfig {
  backend?: BackendName;
  deviceIndex?: number;
  /** Elastic device pool: resident weights + staging slots + KV blocks + scratch. */
  deviceBudgetBytes: number;
  /** Cap on pinned host memory; 0 or absent = only the OS limits it. */
  hostPoolLimitBytes?: number;
  /** Staging ring size S (>= 1), default 2. */
  stagingSlots?: number;
  /** Pacing and preemption granularity, default 4 MiB. */
  copyChunkBytes?: number;
  /** Copy budget (token bucket rate); 0 or absent = unlimited. */
  bandwidthBytesPerS?: number;
  bandwidthBurstBytes?: number;
  /** CPU backend: mlock the host pool. */
  lockHostMemory?: boolean;
  /** Iterations in the bandwidth p10 window, default 64. */
  telemetryWindow?: number;
}

export interface RuntimeInfo {
  backend: BackendName;
  device: string;
  deviceCapacityBytes: number;
}

export interface SwitchState {
  activeInterval: number;
  targetInterval: number;
  pending: boolean;
  layersCopying: number;
  layersBlocked: number;
  activeOffloaded: number;
  bytesRemaining: number;
}

export interface PoolStats {
  budgetBytes: number;
  usedBytes: number;
  freeBytes: number;
  largestFreeBytes: number;
  weightsBytes: number;
  stagingBytes: number;
  kvBytes: number;
  scratchBytes: number;
  kvBlockBytes: number;
  kvBlocksUsed: number;
  stagingSlots: number;
  hostLimitBytes: number;
  hostUsedBytes: number;
}

export interface IterationTelemetry {
  iteration: number;
  interval: number;
  offloadedLayers: number;
  stagingSlots: number;
  switchPending: boolean;
  wallUs: number;
  stallUs: number;
  computeUs: number;
  bytesCopied: number;
  backgroundBytesCopied: number;
  copyBusyUs: number;
  bandwidthBytesPerS: number;
  bandwidthEwma: number;
  bandwidthP10: number;
  bandwidthBudget: number;
  deviceBudgetBytes: number;
  deviceUsedBytes: number;
  deviceWeightsBytes: number;
  deviceStagingBytes: number;
  deviceKvBytes: number;
  deviceScratchBytes: number;
  hostUsedBytes: number;
  layerComputeUs: number[];
  layerStallUs: number[];
}

/** Shape of the native object (native/binding/addon.cpp). */
interface NativeRuntime {
  info(): { backend: string; device: string; deviceCapacityBytes: number };
  declareLayers(layerBytes: number[]): void;
  setHostSet(layers: number[]): Promise<void>;
  setHostLimit(bytes: number): void;
  loadLayer(layer: number, data: Uint8Array): Promise<void>;
  setOffloadSet(layers: number[], interval: number): void;
  switchState(): SwitchState;
  switchPoll(): boolean;
  switchWait(timeoutMs: number): Promise<void>;
  setStagingSlots(slots: number): void;
  runIteration(): Promise<IterationTelemetry>;
  poolStats(): PoolStats;
  kvBytesFreeFor(layers: number[]): number;
  setDeviceBudget(bytes: number): void;
  kvConfigure(blockBytes: number): void;
  kvAlloc(count: number): number[];
  kvFree(ids: number[]): void;
  setBandwidth(bytesPerS: number, burstBytes?: number): void;
  close(): void;
}

interface NativeAddon {
  createRuntime(config: RuntimeConfig): Promise<NativeRuntime>;
  backendCompiled(backend: BackendName): boolean;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the addon: $SELECTN_NATIVE_ADDON, else native/build/selectn.node. */
export function addonPath(): string {
  return (
    process.env['SELECTN_NATIVE_ADDON'] ?? resolve(repoRoot, 'native', 'build', 'selectn.node')
  );
}

let cached: NativeAddon | undefined;

function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new RuntimeError(
      RuntimeErrorCode.AddonMissing,
      `native addon not found at ${path} (run: npm run build:native)`,
    );
  }
  const require = createRequire(import.meta.url);
  cached = require(path) as NativeAddon;
  return cached;
}

/** True when the addon can be loaded (built) on this machine. */
export function addonAvailable(): boolean {
  return existsSync(addonPath());
}

/** Whether a backend is compiled into the addon (CUDA may still find no GPU at run time). */
export function backendCompiled(backend: BackendName): boolean {
  return loadAddon().backendCompiled(backend);
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw toRuntimeError(err);
  }
}

/** Creates a runtime (backend, arena, copy engine) off the event loop. */
export async function createRuntime(config: RuntimeConfig): Promise<OffloadRuntime> {
  const addon = loadAddon();
  try {
    return new OffloadRuntime(await addon.createRuntime(config));
  } catch (err) {
    throw toRuntimeError(err);
  }
}

export class OffloadRuntime {
  readonly #native: NativeRuntime;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(native: NativeRuntime) {
    this.#native = native;
  }

  /**
   * For src/runtime/engine.ts: runs `f` with the native runtime object, queued behind every
   * earlier call like the methods below (the engine's load and steps share the runtime's order).
   */
  withNative<T>(f: (native: object) => T | Promise<T>): Promise<T> {
    return this.#enqueue(() => f(this.#native));
  }

  /** Runs `f` after every earlier queued call has settled; errors become RuntimeError. */
  #enqueue<T>(f: () => T | Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.#closed) throw new RuntimeError(RuntimeErrorCode.State, 'runtime is closed');
      try {
        return await f();
      } catch (err) {
        throw toRuntimeError(err);
      }
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  info(): Promise<RuntimeInfo> {
    return this.#enqueue(() => {
      const i = this.#native.info();
      return { ...i, backend: i.backend === 'cuda' ? 'cuda' : 'cpu' };
    });
  }

  /** Declares the decoder layers (bytes of each layer's contiguous weight blob). Once. */
  declareLayers(layerBytes: readonly number[]): Promise<void> {
    return this.#enqueue(() => {
      this.#native.declareLayers([...layerBytes]);
    });
  }

  /** Layers that may ever be offloaded (the planner's N_min set); sizes the host pool. */
  setHostSet(layers: readonly number[]): Promise<void> {
    return this.#enqueue(() => this.#native.setHostSet([...layers]));
  }

  setHostLimit(bytes: number): Promise<void> {
    return this.#enqueue(() => {
      this.#native.setHostLimit(bytes);
    });
  }

  /** Copies one layer's weights into the host pool and/or its resident device copy. */
  loadLayer(layer: number, data: Uint8Array): Promise<void> {
    return this.#enqueue(() => this.#native.loadLayer(layer, data));
  }

  /**
   * Requests the offload set for interval `interval` (0 = nothing offloaded). Lowering N
   * releases device memory at once; raising N copies in the background and switches at an
   * iteration boundary when complete.
   */
  setOffloadSet(layers: readonly number[], interval: number): Promise<void> {
    return this.#enqueue(() => {
      this.#native.setOffloadSet([...layers], interval);
    });
  }

  /** Lock-free snapshot; safe while an iteration runs. */
  switchState(): SwitchState {
    return call(() => this.#native.switchState());
  }

  /** Adopts a finished switch now; true if the active set changed. */
  switchPoll(): Promise<boolean> {
    return this.#enqueue(() => this.#native.switchPoll());
  }

  /** Waits (off the event loop) for a pending switch; rejects with SN_ERR_TIMEOUT or SN_ERR_NO_DEVICE_ROOM. */
  switchWait(timeoutMs: number): Promise<void> {
    return this.#enqueue(() => this.#native.switchWait(timeoutMs));
  }

  setStagingSlots(slots: number): Promise<void> {
    return this.#enqueue(() => {
      this.#native.setStagingSlots(slots);
    });
  }

  /** One pass over every layer without compute (copy-path profiling); resolves with telemetry. */
  runIteration(): Promise<IterationTelemetry> {
    return this.#enqueue(() => this.#native.runIteration());
  }

  /** Lock-free snapshot of the elastic device pool and the host pool. */
  poolStats(): PoolStats {
    return call(() => this.#native.poolStats());
  }

  /** Bytes KV blocks could use if `offloadSet` were active. */
  kvBytesFreeFor(offloadSet: readonly number[]): Promise<number> {
    return this.#enqueue(() => this.#native.kvBytesFreeFor([...offloadSet]));
  }

  setDeviceBudget(bytes: number): Promise<void> {
    return this.#enqueue(() => {
      this.#native.setDeviceBudget(bytes);
    });
  }

  kvConfigure(blockBytes: number): Promise<void> {
    return this.#enqueue(() => {
      this.#native.kvConfigure(blockBytes);
    });
  }

  /** All or nothing; rejects with SN_ERR_NO_DEVICE_ROOM ("no room": the policy decides). */
  kvAlloc(count: number): Promise<number[]> {
    return this.#enqueue(() => this.#native.kvAlloc(count));
  }

  kvFree(blockIds: readonly number[]): Promise<void> {
    return this.#enqueue(() => {
      this.#native.kvFree([...blockIds]);
    });
  }

  /** Changes the copy budget at once (0 = unlimited); safe while an iteration runs. */
  setBandwidth(bytesPerS: number, burstBytes?: number): void {
    call(() => {
      this.#native.setBandwidth(bytesPerS, burstBytes);
    });
  }

  /** Frees native memory after queued calls finish. Idempotent. */
  close(): Promise<void> {
    return this.#enqueue(() => {
      this.#native.close();
      this.#closed = true;
    }).catch((err: unknown) => {
      if (this.#closed) return;
      throw err;
    });
  }
}
