// Binding tests: the native runtime through src/runtime, including errors crossing the boundary.
// Needs the addon (npm run build:native; `npm test` builds it first).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RuntimeError,
  RuntimeErrorCode,
  backendCompiled,
  createRuntime,
  type OffloadRuntime,
} from '../../src/runtime/index.ts';

const MiB = 1 << 20;

async function makeModel(
  rt: OffloadRuntime,
  layers: number,
  bytes: number,
  hostSet: number[],
  offloadSet: number[],
  interval: number,
): Promise<void> {
  await rt.declareLayers(Array.from({ length: layers }, () => bytes));
  await rt.setHostSet(hostSet);
  await rt.setOffloadSet(offloadSet, interval);
  for (let i = 0; i < layers; i++) {
    await rt.loadLayer(i, new Uint8Array(bytes).fill(i + 1));
  }
}

async function expectCode(
  p: Promise<unknown>,
  code: RuntimeErrorCode,
  message?: string,
): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RuntimeError);
  const re = err as RuntimeError;
  expect(re.code).toBe(code);
  if (message !== undefined) expect(re.message).toContain(message);
}

describe('native runtime binding', () => {
  it('streams an offload set and reports telemetry', async () => {
    expect(backendCompiled('cpu')).toBe(true);
    const rt = await createRuntime({
      backend: 'cpu',
      deviceBudgetBytes: 16 * MiB,
      stagingSlots: 2,
    });
    try {
      const info = await rt.info();
      expect(info).toEqual({ backend: 'cpu', device: 'cpu-arena', deviceCapacityBytes: 16 * MiB });
      await makeModel(rt, 8, 256 * 1024, [1, 3, 5, 7], [1, 3, 5, 7], 2);
      const t = await rt.runIteration();
      expect(t.iteration).toBe(1);
      expect(t.interval).toBe(2);
      expect(t.offloadedLayers).toBe(4);
      expect(t.bytesCopied).toBe(4 * 256 * 1024);
      expect(t.bandwidthBytesPerS).toBeGreaterThan(0);
      expect(t.layerComputeUs).toHaveLength(8);
      expect(t.hostUsedBytes).toBe(4 * 256 * 1024);
      const pool = rt.poolStats();
      expect(pool.weightsBytes).toBe(4 * 256 * 1024);
      expect(pool.stagingBytes).toBe(2 * 256 * 1024);
      expect(pool.weightsBytes + pool.stagingBytes + pool.kvBytes + pool.scratchBytes).toBe(
        pool.usedBytes,
      );
    } finally {
      await rt.close();
    }
  });

  it('turns native failures into RuntimeError with code and message', async () => {
    await expectCode(
      createRuntime({ deviceBudgetBytes: 0 }),
      RuntimeErrorCode.InvalidArgument,
      'device_budget_bytes must be > 0',
    );
    await expectCode(
      createRuntime({ backend: 'gpu' as 'cpu', deviceBudgetBytes: MiB }),
      RuntimeErrorCode.InvalidArgument,
      'backend must be "cpu" or "cuda"',
    );
    const rt = await createRuntime({ deviceBudgetBytes: 2 * MiB, stagingSlots: 1 });
    await expectCode(rt.runIteration(), RuntimeErrorCode.State, 'needs sn_layers_declare first');
    await rt.declareLayers([1000, 1000, 1000]);
    await rt.setHostSet([0, 2]);
    await expectCode(
      rt.setOffloadSet([1], 2),
      RuntimeErrorCode.InvalidArgument,
      'layer 1 is not in the host set',
    );
    await expectCode(
      rt.loadLayer(0, new Uint8Array(999)),
      RuntimeErrorCode.InvalidArgument,
      'layer 0 has 1000 bytes, got 999',
    );
    await expectCode(
      rt.loadLayer(-1, new Uint8Array(1)),
      RuntimeErrorCode.InvalidArgument,
      'layer must be an integer',
    );
    await expectCode(rt.runIteration(), RuntimeErrorCode.State, 'is not loaded');
    await rt.kvConfigure(256 * 1024);
    await expectCode(
      rt.kvAlloc(100),
      RuntimeErrorCode.NoDeviceRoom,
      'no device room for 100 KV blocks',
    );
    expect(rt.poolStats().kvBlocksUsed).toBe(0);
    const ids = await rt.kvAlloc(3);
    expect(ids).toHaveLength(3);
    await expectCode(
      rt.kvFree([ids[0] ?? 0, ids[0] ?? 0]),
      RuntimeErrorCode.InvalidArgument,
      'listed twice',
    );
    expect(() => {
      rt.setBandwidth(-1);
    }).toThrow(RuntimeError);
    await rt.close();
    await rt.close();
    await expectCode(rt.runIteration(), RuntimeErrorCode.State, 'runtime is closed');
  });

  it('refuses an oversized host set with a host-memory error', async () => {
    const rt = await createRuntime({ deviceBudgetBytes: MiB, hostPoolLimitBytes: 3000 });
    try {
      await rt.declareLayers([2000, 2000]);
      await expectCode(
        rt.setHostSet([0, 1]),
        RuntimeErrorCode.OutOfHostMemory,
        'host pool limit 3000',
      );
      expect(rt.poolStats().hostUsedBytes).toBe(0);
    } finally {
      await rt.close();
    }
  });

  it('switches intervals in the background without blocking the event loop', async () => {
    const rt = await createRuntime({
      deviceBudgetBytes: 32 * MiB,
      stagingSlots: 2,
      copyChunkBytes: 64 * 1024,
    });
    try {
      const all = [0, 1, 2, 3, 4, 5, 6, 7];
      await makeModel(rt, 8, 512 * 1024, all, all, 1);
      await rt.runIteration();
      // 4 layers x 512 KiB back to the device at 8 MiB/s: about 250 ms of background copying.
      rt.setBandwidth(8 * MiB, 64 * 1024);
      await rt.setOffloadSet([1, 3, 5, 7], 2);
      const state = rt.switchState();
      expect(state.pending).toBe(true);
      expect(state.activeInterval).toBe(1);
      let ticks = 0;
      const timer = setInterval(() => {
        ticks++;
      }, 5);
      const during = await rt.runIteration();
      expect(during.interval).toBe(1);
      await rt.switchWait(10_000);
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(0);
      rt.setBandwidth(0);
      expect(rt.switchState()).toMatchObject({
        pending: false,
        activeInterval: 2,
        activeOffloaded: 4,
      });
      const after = await rt.runIteration();
      expect(after.interval).toBe(2);
      expect(after.offloadedLayers).toBe(4);
    } finally {
      await rt.close();
    }
  });

  it('reports KV room for any offload set (property)', async () => {
    const layers = 6;
    const bytes = 64 * 1024;
    const rt = await createRuntime({ deviceBudgetBytes: 4 * MiB, stagingSlots: 2 });
    try {
      const all = Array.from({ length: layers }, (_, i) => i);
      await makeModel(rt, layers, bytes, all, [], 0);
      await fc.assert(
        fc.asyncProperty(fc.subarray(all), async (set) => {
          const free = await rt.kvBytesFreeFor(set);
          const resident = (layers - set.length) * bytes;
          const staging = set.length > 0 ? 2 * bytes : 0;
          expect(free).toBe(4 * MiB - resident - staging);
          await rt.setOffloadSet(set, set.length);
          await rt.switchWait(10_000);
          const t = await rt.runIteration();
          expect(t.offloadedLayers).toBe(set.length);
          expect(t.bytesCopied).toBe(set.length * bytes);
        }),
        { numRuns: 25 },
      );
    } finally {
      await rt.close();
    }
  });
});
