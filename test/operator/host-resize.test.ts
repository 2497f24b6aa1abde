import { describe, expect, it } from 'vitest';
import {
  decideHostResize,
  HostResizeInputError,
  hostRoomBytes,
  type HostResizeInput,
} from '../../src/operator/host-resize.ts';
import { podMemory, PodResizeReadError, type PodMemory } from '../../src/operator/pod-resize.ts';
import type { Pod } from '../../src/operator/kube/types.ts';

const MiB = 2 ** 20;
const settled = (bytes: number): PodMemory => ({
  specBytes: bytes,
  appliedBytes: bytes,
  resize: { kind: 'settled' },
});

// A pod of 1000 MiB: 400 MiB baseline, room for 600 MiB of host pool.
const base = (over: Partial<HostResizeInput> = {}): HostResizeInput => ({
  memory: settled(1000 * MiB),
  baseBytes: 400 * MiB,
  inForceHostBytes: 600 * MiB,
  hostUsedBytes: 600 * MiB,
  desiredHostBytes: 600 * MiB,
  planInForce: true,
  nowMs: 100_000,
  lastResizeMs: -Infinity,
  dwellMs: 30_000,
  hysteresis: 0.1,
  ...over,
});

describe('decideHostResize: narrowing from below', () => {
  it('pushes the narrower plan first, while the pod still has its memory', () => {
    expect(decideHostResize(base({ desiredHostBytes: 200 * MiB, planInForce: false }))).toEqual({
      kind: 'push',
    });
  });

  it('waits while the pod still holds the pinned memory the old plan had', () => {
    const step = decideHostResize(
      base({ desiredHostBytes: 200 * MiB, inForceHostBytes: 200 * MiB }),
    );
    expect(step.kind).toBe('wait');
    expect(step.kind === 'wait' && step.reason).toMatch(/still holds 600 MiB/);
  });

  it('lowers the memory to baseline plus what the pod holds once it released the rest', () => {
    const step = decideHostResize(
      base({ desiredHostBytes: 200 * MiB, inForceHostBytes: 200 * MiB, hostUsedBytes: 150 * MiB }),
    );
    expect(step).toMatchObject({ kind: 'resize', direction: 'shrink', memoryBytes: 600 * MiB });
  });

  it('never lowers below what the pod reports in use', () => {
    const step = decideHostResize(
      base({
        desiredHostBytes: 200 * MiB,
        inForceHostBytes: 300 * MiB,
        hostUsedBytes: 300 * MiB,
      }),
    );
    expect(step).toMatchObject({ kind: 'resize', direction: 'shrink', memoryBytes: 700 * MiB });
  });

  it('does not resize for a saving under the hysteresis', () => {
    // 1000 MiB pod, 10%: saving 50 MiB is not worth it, 150 MiB is.
    const small = base({
      desiredHostBytes: 550 * MiB,
      inForceHostBytes: 550 * MiB,
      hostUsedBytes: 550 * MiB,
    });
    expect(decideHostResize(small)).toEqual({ kind: 'steady' });
    const large = base({
      desiredHostBytes: 450 * MiB,
      inForceHostBytes: 450 * MiB,
      hostUsedBytes: 450 * MiB,
    });
    expect(decideHostResize(large)).toMatchObject({ kind: 'resize', memoryBytes: 850 * MiB });
  });

  it('waits out the dwell time after the last resize', () => {
    const input = base({
      desiredHostBytes: 200 * MiB,
      inForceHostBytes: 200 * MiB,
      hostUsedBytes: 200 * MiB,
      lastResizeMs: 90_000,
    });
    const step = decideHostResize(input);
    expect(step.kind).toBe('wait');
    expect(step.kind === 'wait' && step.reason).toMatch(/next resize in 20 s/);
    expect(decideHostResize({ ...input, nowMs: 120_000 }).kind).toBe('resize');
  });

  it('is steady while a resize is on its way', () => {
    const memory: PodMemory = {
      specBytes: 600 * MiB,
      appliedBytes: 1000 * MiB,
      resize: { kind: 'in-progress', message: '' },
    };
    expect(
      decideHostResize(
        base({
          memory,
          desiredHostBytes: 200 * MiB,
          inForceHostBytes: 200 * MiB,
          hostUsedBytes: 200 * MiB,
        }),
      ),
    ).toEqual({ kind: 'steady' });
  });
});

describe('decideHostResize: widening', () => {
  it('raises the memory first and does not push the wider plan', () => {
    const step = decideHostResize(base({ desiredHostBytes: 900 * MiB, planInForce: false }));
    expect(step).toMatchObject({ kind: 'resize', direction: 'grow', memoryBytes: 1300 * MiB });
  });

  it('waits until the node applied the resize, then pushes', () => {
    const asked: PodMemory = {
      specBytes: 1300 * MiB,
      appliedBytes: 1000 * MiB,
      resize: { kind: 'in-progress', message: 'resizing' },
    };
    expect(
      decideHostResize(base({ memory: asked, desiredHostBytes: 900 * MiB, planInForce: false })),
    ).toMatchObject({ kind: 'wait' });
    // Spec changed but the node has not reported it yet: still waits, asks nothing again.
    const unreported: PodMemory = { ...asked, resize: { kind: 'settled' } };
    expect(
      decideHostResize(
        base({ memory: unreported, desiredHostBytes: 900 * MiB, planInForce: false }),
      ),
    ).toMatchObject({ kind: 'wait' });
    expect(
      decideHostResize(
        base({ memory: settled(1300 * MiB), desiredHostBytes: 900 * MiB, planInForce: false }),
      ),
    ).toEqual({ kind: 'push' });
  });

  it('holds the plan in force when the node refuses the resize', () => {
    const refused: PodMemory = {
      specBytes: 1300 * MiB,
      appliedBytes: 1000 * MiB,
      resize: { kind: 'refused', reason: 'Infeasible', message: "Node didn't have enough memory" },
    };
    const step = decideHostResize(
      base({ memory: refused, desiredHostBytes: 900 * MiB, planInForce: false }),
    );
    expect(step.kind).toBe('hold');
    expect(step.kind === 'hold' && step.reason).toBe('Infeasible');
    expect(step.kind === 'hold' && step.message).toMatch(/plan in force stays within 1000 MiB/);
    // A plan within the applied memory is pushed despite the refusal.
    expect(
      decideHostResize(base({ memory: refused, desiredHostBytes: 500 * MiB, planInForce: false })),
    ).toEqual({ kind: 'push' });
  });

  it('grows under the dwell time only after it ran out', () => {
    const input = base({ desiredHostBytes: 900 * MiB, planInForce: false, lastResizeMs: 95_000 });
    expect(decideHostResize(input).kind).toBe('wait');
    expect(decideHostResize({ ...input, nowMs: 125_000 }).kind).toBe('resize');
  });
});

describe('decideHostResize: input', () => {
  it('names the bad field', () => {
    expect(() => decideHostResize(base({ hostUsedBytes: -1 }))).toThrow(HostResizeInputError);
    expect(() => decideHostResize(base({ hostUsedBytes: Number.NaN }))).toThrow(/hostUsedBytes/);
    expect(() => decideHostResize(base({ hysteresis: 1 }))).toThrow(/hysteresis/);
  });

  it('room is the applied memory less the baseline, never negative', () => {
    expect(hostRoomBytes(settled(1000 * MiB), 400 * MiB)).toBe(600 * MiB);
    expect(hostRoomBytes(settled(100 * MiB), 400 * MiB)).toBe(0);
  });
});

const pod = (
  status: NonNullable<Pod['status']> & Record<string, unknown>,
  memory = '1000Mi',
): Pod => ({
  metadata: { name: 'p-0', uid: 'u' },
  spec: {
    containers: [{ name: 'serve', resources: { requests: { memory }, limits: { memory } } }],
  },
  status,
});

describe('podMemory', () => {
  it('reads spec and applied limits and a settled resize', () => {
    const p = pod({
      containerStatuses: [
        {
          name: 'serve',
          ready: true,
          restartCount: 0,
          resources: { limits: { memory: '1000Mi' } },
        } as never,
      ],
    });
    expect(podMemory(p, 'serve')).toEqual(settled(1000 * MiB));
  });

  it('sees a resize asked for and not applied as in progress', () => {
    const p = pod(
      {
        containerStatuses: [
          {
            name: 'serve',
            ready: true,
            restartCount: 0,
            resources: { limits: { memory: '1000Mi' } },
          } as never,
        ],
      },
      '1300Mi',
    );
    expect(podMemory(p, 'serve')).toMatchObject({
      specBytes: 1300 * MiB,
      appliedBytes: 1000 * MiB,
      resize: { kind: 'in-progress' },
    });
  });

  it('reads PodResizePending and a failed PodResizeInProgress as refusals', () => {
    const pending = pod({
      conditions: [
        { type: 'PodResizePending', status: 'True', reason: 'Infeasible', message: 'no room' },
      ],
    });
    expect(podMemory(pending, 'serve')?.resize).toEqual({
      kind: 'refused',
      reason: 'Infeasible',
      message: 'no room',
    });
    const failed = pod({
      conditions: [
        { type: 'PodResizeInProgress', status: 'True', reason: 'Error', message: 'oom' },
      ],
    });
    expect(podMemory(failed, 'serve')?.resize).toMatchObject({ kind: 'refused', reason: 'Error' });
  });

  it('is undefined without a memory limit and names a bad quantity', () => {
    expect(
      podMemory({ metadata: { name: 'x' }, spec: { containers: [{ name: 'serve' }] } }, 'serve'),
    ).toBe(undefined);
    expect(() => podMemory(pod({}, '12 apples'), 'serve')).toThrow(PodResizeReadError);
    expect(() => podMemory(pod({}, '12 apples'), 'serve')).toThrow(/pod p-0 spec container serve/);
  });
});
