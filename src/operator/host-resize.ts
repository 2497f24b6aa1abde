// When to resize a serving pod's memory in place so the host pool follows the re-derived plan.
// Order matters both ways: narrowing the range from below first has the pod release its pinned
// memory (the plan is pushed, the server shrinks its pool), then lowers the memory limit, never
// below what the pod reports in use; widening first raises the limit, waits until the node has
// applied it, and only then pushes the wider range, so a plan is never in force without the
// memory behind it. Shrinks wait out a hysteresis (small savings are not worth a resize) and
// every resize a dwell time. A refused resize holds the plan in force.
// Pure: no I/O.
import type { PodMemory } from './pod-resize.ts';

export interface HostResizeInput {
  memory: PodMemory;
  /** Pod memory apart from the host pool (server baseline, CPU device memory). */
  baseBytes: number;
  /** Host pool bytes of the plan in force on the pod. */
  inForceHostBytes: number;
  /** Pinned host bytes the pod reports holding now. */
  hostUsedBytes: number;
  /** Host pool bytes of the plan the operator wants in force. */
  desiredHostBytes: number;
  /** Whether the wanted plan is already in force (nothing to push). */
  planInForce: boolean;
  nowMs: number;
  /** When the operator last asked this pod for a resize (-Infinity: never). */
  lastResizeMs: number;
  dwellMs: number;
  /** A shrink must save at least this fraction of the pod's applied memory. */
  hysteresis: number;
}

export type HostResizeStep =
  /** Nothing to do: the plan is in force and the memory fits it. */
  | { kind: 'steady' }
  /** The wanted plan fits the memory the node applied: push it. */
  | { kind: 'push' }
  /** Ask for this memory limit (and request) through pods/resize. */
  | { kind: 'resize'; direction: 'grow' | 'shrink'; memoryBytes: number; reason: string }
  /** Not now: a resize is on its way, the dwell time runs, or the pod still holds the memory. */
  | { kind: 'wait'; reason: string }
  /** The node refused the resize the plan needs; the plan in force stays. */
  | { kind: 'hold'; reason: string; message: string };

export class HostResizeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostResizeInputError';
  }
}

function check(input: HostResizeInput): void {
  const bytes: [string, number][] = [
    ['memory.specBytes', input.memory.specBytes],
    ['memory.appliedBytes', input.memory.appliedBytes],
    ['baseBytes', input.baseBytes],
    ['inForceHostBytes', input.inForceHostBytes],
    ['hostUsedBytes', input.hostUsedBytes],
    ['desiredHostBytes', input.desiredHostBytes],
  ];
  for (const [name, value] of bytes) {
    if (!Number.isFinite(value) || value < 0)
      throw new HostResizeInputError(`${name} must be a finite byte count >= 0, got ${value}`);
  }
  if (!(input.hysteresis >= 0 && input.hysteresis < 1))
    throw new HostResizeInputError(`hysteresis must be in [0, 1), got ${input.hysteresis}`);
  if (!(input.dwellMs >= 0)) throw new HostResizeInputError(`dwellMs must be >= 0`);
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** The host memory the pod may plan with now: what the node applied, less the baseline. */
export function hostRoomBytes(memory: PodMemory, baseBytes: number): number {
  return Math.max(0, memory.appliedBytes - baseBytes);
}

export function decideHostResize(input: HostResizeInput): HostResizeStep {
  check(input);
  const { memory, baseBytes } = input;
  const room = hostRoomBytes(memory, baseBytes);
  const dwellLeft = input.lastResizeMs + input.dwellMs - input.nowMs;

  if (input.desiredHostBytes > room) {
    const target = baseBytes + input.desiredHostBytes;
    if (memory.resize.kind === 'refused' && memory.specBytes >= target) {
      return {
        kind: 'hold',
        reason: memory.resize.reason,
        message: `resize to ${mib(memory.specBytes)} not applied (${memory.resize.reason}: ${memory.resize.message}); the plan in force stays within ${mib(memory.appliedBytes)}`,
      };
    }
    // Asked for already (the node may not have reported it yet): wait for it, ask nothing again.
    if (memory.specBytes >= target)
      return { kind: 'wait', reason: `memory resize to ${mib(memory.specBytes)} in progress` };
    if (dwellLeft > 0)
      return {
        kind: 'wait',
        reason: `the plan needs ${mib(target)} of memory; next resize in ${Math.ceil(dwellLeft / 1000)} s (dwell time)`,
      };
    return {
      kind: 'resize',
      direction: 'grow',
      memoryBytes: target,
      reason: `the plan holds ${mib(input.desiredHostBytes)} of pinned host memory, more than the ${mib(room)} the pod's ${mib(memory.appliedBytes)} leave; memory raised first, the plan pushed once it is applied`,
    };
  }
  if (!input.planInForce) return { kind: 'push' };

  // The plan is in force and fits. Lower the memory if the plan needs much less than the pod has,
  // once the pod released what it held beyond the plan (never below what it holds).
  if (memory.resize.kind === 'in-progress') return { kind: 'steady' };
  const worth = (target: number): boolean => {
    const saving = memory.appliedBytes - target;
    return saving > 0 && saving >= input.hysteresis * memory.appliedBytes;
  };
  const planned = Math.max(input.inForceHostBytes, input.desiredHostBytes);
  if (!worth(baseBytes + planned)) return { kind: 'steady' };
  if (input.hostUsedBytes > planned)
    return {
      kind: 'wait',
      reason: `the pod still holds ${mib(input.hostUsedBytes)} of pinned memory, over its plan's ${mib(planned)}; memory lowered once it releases them`,
    };
  // The pod holds no more than its plan now, so the plan's bytes are the floor.
  const keep = planned;
  const target = baseBytes + keep;
  if (memory.resize.kind === 'refused' && memory.specBytes === target) {
    return {
      kind: 'hold',
      reason: memory.resize.reason,
      message: `resize down to ${mib(target)} not applied (${memory.resize.reason}: ${memory.resize.message}); the pod keeps ${mib(memory.appliedBytes)}`,
    };
  }
  if (dwellLeft > 0)
    return {
      kind: 'wait',
      reason: `memory could drop to ${mib(target)}; next resize in ${Math.ceil(dwellLeft / 1000)} s (dwell time)`,
    };
  return {
    kind: 'resize',
    direction: 'shrink',
    memoryBytes: target,
    reason: `the pod holds ${mib(keep)} of pinned host memory in a ${mib(memory.appliedBytes)} pod; memory lowered to ${mib(target)} (baseline ${mib(baseBytes)})`,
  };
}
