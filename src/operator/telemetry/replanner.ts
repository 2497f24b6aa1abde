// The re-planning half of the slow loop: for each fresh pod of a deployment in offload mode auto,
// plan again from the pod's own measurement (replan.ts) and, when the result differs from the plan
// in force, push it with PUT /v1/selectn/plan at the next generation. A refusal (409, 422, 400)
// or a plan the planner cannot make leaves the pod's plan in force; it is reported (event, and
// the Degraded condition through the published refusals) and not retried until something that
// feeds the plan changes. At most one push per pod per dwell time.
// With in-place resize (deps.resize), the host pool is planned up to spec.offload.hostMemoryLimit
// and the pod's memory follows it (host-resize.ts decides the order); without it, or when the
// node refused a resize, the plan stays within the memory the pod has.
import {
  EVENT_REASONS,
  WIRE_SCHEMA_VERSION,
  quantityToBytes,
  type PlanStatus,
  type PlanWire,
  type SelectNDeploymentSpec,
  type TelemetrySnapshot,
} from '../../api/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { EventRecorder, Regarding } from '../events.ts';
import type { BusBudget } from '../bus-budget.ts';
import { decideHostResize, hostRoomBytes } from '../host-resize.ts';
import type { Pod } from '../kube/types.ts';
import { CONTAINER_NAME } from '../pod.ts';
import { podMemory, PodResizeReadError, type PodMemory } from '../pod-resize.ts';
import { planFromMeasurement, ReplanError, type MeasuredPlan } from '../replan.ts';
import { pushPlan, type PushOutcome } from './push.ts';

export interface ReplanPod {
  name: string;
  uid: string;
  url: string;
  snapshot: TelemetrySnapshot;
  /** The pod's share of its bus, when it shares one (bus-budget.ts). */
  busBudget?: BusBudget;
  /** The pod object (spec and status resources), for in-place memory resize. */
  pod?: Pod;
}

/** A resize refusal is published with this code prefix and the node's reason (Infeasible...). */
export const RESIZE_REFUSAL_PREFIX = 'Resize';

/** How many dwell times a resize the API server rejected keeps the plan within the pod's memory. */
export const REJECTION_RETRY_DWELLS = 10;

/** A budget that moved less than this (relative) is not pushed again. */
export const BUDGET_HYSTERESIS = 0.1;

/** Why a pod keeps its old plan. */
export interface PlanRefusal {
  pod: string;
  /** Generation that was refused (0 when the plan could not be made). */
  generation: number;
  /** 409, 422, 400 from the pod; 0 when the planner refused. */
  status: number;
  code: string;
  message: string;
}

export interface ReplannerDeps {
  push?: (url: string, token: string, plan: PlanWire, timeoutMs: number) => Promise<PushOutcome>;
  /**
   * Sets the serving container's memory request and limit through the pods/resize subresource;
   * absent: no in-place resize (the plan stays within what each pod holds).
   */
  resize?: (namespace: string, name: string, memoryBytes: number) => Promise<void>;
  events: EventRecorder | undefined;
  log: Logger;
  now: () => number;
}

export interface ReplannerOptions {
  /** Least time between two pushes to one pod, and between two memory resizes. */
  dwellMs: number;
  timeoutMs: number;
  /** A memory shrink must save this fraction of the pod's memory (default 0.1). */
  resizeHysteresis?: number;
}

interface PodState {
  lastPushMs: number;
  lastResizeMs: number;
  /** The API server rejected the last resize (forbidden, quota, limit range). */
  rejected?: PlanRefusal;
  rejectedAtMs?: number;
  refusal?: { want: string; refusal: PlanRefusal };
  cache?: { key: string; plan: MeasuredPlan | ReplanError };
}

const BASIS = 'measured';
const BUS_BASIS = 'bus-budget';

const finite = (b: number | null | undefined) => (b === null || b === undefined ? Infinity : b);

export class Replanner {
  private readonly deps: ReplannerDeps;
  private readonly options: ReplannerOptions;
  private readonly pods = new Map<string, PodState>();

  constructor(deps: ReplannerDeps, options: ReplannerOptions) {
    this.deps = deps;
    this.options = options;
  }

  /** Re-plans the fresh pods of one deployment; returns the refusals now standing. */
  async replan(
    regarding: Regarding,
    spec: SelectNDeploymentSpec,
    startPlan: PlanStatus | undefined,
    token: string,
    pods: readonly ReplanPod[],
  ): Promise<PlanRefusal[]> {
    if (spec.offload.mode !== 'auto') return [];
    const refusals: PlanRefusal[] = [];
    await Promise.all(
      pods.map(async (pod) => {
        const refusal = await this.replanPod(regarding, spec, startPlan, token, pod);
        if (refusal) refusals.push(refusal);
      }),
    );
    return refusals.sort((a, b) => (a.pod < b.pod ? -1 : 1));
  }

  /** Drops the state of pods not in `uids`. */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.pods.keys()) if (!uids.has(uid)) this.pods.delete(uid);
  }

  private async replanPod(
    regarding: Regarding,
    spec: SelectNDeploymentSpec,
    startPlan: PlanStatus | undefined,
    token: string,
    pod: ReplanPod,
  ): Promise<PlanRefusal | undefined> {
    const { snapshot } = pod;
    if (snapshot.planning === undefined) return undefined;
    const state = this.pods.get(pod.uid) ?? { lastPushMs: -Infinity, lastResizeMs: -Infinity };
    this.pods.set(pod.uid, state);
    const inForce = snapshot.plan;
    const limit =
      spec.offload.hostMemoryLimit === undefined
        ? Infinity
        : quantityToBytes(spec.offload.hostMemoryLimit);
    const resizing = this.resizable(pod, startPlan);
    // A rejection stands for REJECTION_RETRY_DWELLS dwell times; then growing is tried again.
    if (
      state.rejectedAtMs !== undefined &&
      this.deps.now() - state.rejectedAtMs > REJECTION_RETRY_DWELLS * this.options.dwellMs
    ) {
      delete state.rejected;
      delete state.rejectedAtMs;
    }
    // Without an in-place resize the pod cannot hold more than it was given or holds now; with
    // one, up to the spec's limit, unless the API server rejected or the node refused a resize:
    // then within the memory the pod has.
    const growRefused =
      state.rejected !== undefined ||
      (resizing?.memory.resize.kind === 'refused' &&
        resizing.memory.specBytes > resizing.memory.appliedBytes);
    const ceiling = resizing
      ? growRefused
        ? Math.min(limit, hostRoomBytes(resizing.memory, resizing.baseBytes))
        : limit
      : Math.min(limit, Math.max(inForce.hostMemoryBytes, startPlan?.hostMemoryBytes ?? 0));
    // The copy budget: spec.server.copyBandwidth, lowered to the pod's share of a shared bus;
    // kept as in force while it moves less than the hysteresis.
    const base =
      spec.server.copyBandwidth === undefined
        ? Infinity
        : quantityToBytes(spec.server.copyBandwidth);
    const share = finite(pod.busBudget?.budgetBytesPerS);
    let budget = Math.min(base, share);
    const held = finite(inForce.bandwidthBudgetBytesPerSecond);
    if (
      Number.isFinite(budget) &&
      Number.isFinite(held) &&
      Math.abs(budget - held) < BUDGET_HYSTERESIS * Math.max(budget, held)
    )
      budget = held;
    const byBus = share < base;
    const input = {
      planning: snapshot.planning,
      slo: { ttftMs: spec.slo.ttftMs, tpotMs: spec.slo.tpotMs },
      bounds: spec.offload.interval,
      hostCeilingBytes: ceiling,
      ...(Number.isFinite(budget) ? { bandwidthBytesPerS: { min: budget, max: budget } } : {}),
    };
    const basis = byBus ? BUS_BASIS : BASIS;
    const wireBudget = Number.isFinite(budget) ? budget : null;
    const key = JSON.stringify({ ...input, planning: undefined });
    if (state.cache?.key !== key) {
      let plan: MeasuredPlan | ReplanError;
      try {
        plan = planFromMeasurement(input);
      } catch (error) {
        if (!(error instanceof ReplanError)) throw error;
        plan = error;
      }
      state.cache = { key, plan };
    }
    const desired = state.cache.plan;
    if (desired instanceof ReplanError) {
      const refusal: PlanRefusal = {
        pod: pod.name,
        generation: 0,
        status: 0,
        code: desired.failure,
        message: desired.message,
      };
      this.refuse(regarding, state, `error:${key}`, refusal);
      return refusal;
    }
    const same =
      inForce.interval.min === desired.intervalMin &&
      inForce.interval.max === desired.intervalMax &&
      inForce.hostMemoryBytes === desired.hostMemoryBytes &&
      inForce.bandwidthBudgetBytesPerSecond === wireBudget &&
      inForce.basis.startsWith(`${basis}:`);
    const resizeRefusal =
      state.rejected ??
      (resizing?.memory.resize.kind === 'refused'
        ? {
            pod: pod.name,
            generation: 0,
            status: 0,
            code: `${RESIZE_REFUSAL_PREFIX}${resizing.memory.resize.reason}`,
            message: `memory resize to ${resizing.memory.specBytes} bytes not applied: ${resizing.memory.resize.message}; the plan stays within the ${resizing.memory.appliedBytes} bytes the pod has`,
          }
        : undefined);
    if (resizing) {
      const step = decideHostResize({
        memory: resizing.memory,
        baseBytes: resizing.baseBytes,
        inForceHostBytes: inForce.hostMemoryBytes,
        hostUsedBytes: snapshot.pools.hostUsedBytes,
        desiredHostBytes: desired.hostMemoryBytes,
        planInForce: same,
        nowMs: this.deps.now(),
        lastResizeMs: state.lastResizeMs,
        dwellMs: this.options.dwellMs,
        hysteresis: this.options.resizeHysteresis ?? 0.1,
      });
      if (step.kind === 'hold') {
        const refusal: PlanRefusal = {
          pod: pod.name,
          generation: 0,
          status: 0,
          code: `${RESIZE_REFUSAL_PREFIX}${step.reason}`,
          message: step.message,
        };
        this.refuse(
          regarding,
          state,
          `resize:${step.reason}:${resizing.memory.specBytes}`,
          refusal,
        );
        return refusal;
      }
      if (resizeRefusal)
        this.refuse(
          regarding,
          state,
          `resize:${resizeRefusal.code}:${resizing.memory.specBytes}`,
          resizeRefusal,
        );
      if (step.kind === 'wait') {
        this.deps.log.debug({ pod: pod.name, why: step.reason }, 'memory resize waits');
        return resizeRefusal ?? state.refusal?.refusal;
      }
      if (step.kind === 'resize')
        return (
          (await this.resizePod(regarding, pod, state, resizing.memory, step)) ?? resizeRefusal
        );
      if (step.kind === 'steady') return resizeRefusal;
      // push: the plan fits the memory the node applied.
    }
    if (same) {
      // A standing resize refusal stays (said once), the rest is settled.
      if (!resizeRefusal) delete state.refusal;
      return resizeRefusal;
    }
    const want = JSON.stringify([
      desired.intervalMin,
      desired.intervalMax,
      desired.hostMemoryBytes,
      wireBudget,
    ]);
    if (state.refusal?.want === want) return state.refusal.refusal;
    const now = this.deps.now();
    if (now - state.lastPushMs < this.options.dwellMs) return state.refusal?.refusal;
    state.lastPushMs = now;
    const plan: PlanWire = {
      schemaVersion: WIRE_SCHEMA_VERSION,
      generation: inForce.generation + 1,
      interval: { min: desired.intervalMin, max: desired.intervalMax },
      hostMemoryBytes: desired.hostMemoryBytes,
      bandwidthBudgetBytesPerSecond: wireBudget,
      layerSelection: spec.offload.layerSelection,
      basis:
        `${basis}: ${byBus && pod.busBudget ? `${pod.busBudget.detail}; ` : ''}${desired.detail}`.slice(
          0,
          4096,
        ),
      issuedAt: new Date(now).toISOString(),
    };
    const outcome = await (this.deps.push ?? pushPlan)(
      pod.url,
      token,
      plan,
      this.options.timeoutMs,
    );
    const range = `[${desired.intervalMin ?? 'inf'}, ${desired.intervalMax ?? 'inf'}]`;
    if (outcome.kind === 'applied') {
      if (!resizeRefusal) delete state.refusal;
      const applied = outcome.ack.plan;
      this.deps.log.info(
        { pod: pod.name, generation: plan.generation, interval: applied.interval },
        'plan pushed',
      );
      this.deps.events?.emit(
        regarding,
        'Normal',
        EVENT_REASONS.PlanPushed,
        'Replan',
        `pod ${pod.name}: generation ${plan.generation}, ${basis}, interval ${range} (was [${inForce.interval.min ?? 'inf'}, ${inForce.interval.max ?? 'inf'}]), host memory ${desired.hostMemoryBytes} bytes (was ${inForce.hostMemoryBytes}): ${desired.detail}${outcome.ack.note ? `; pod: ${outcome.ack.note}` : ''}`,
      );
      return resizeRefusal;
    }
    if (outcome.kind === 'refused') {
      const refusal: PlanRefusal = {
        pod: pod.name,
        generation: plan.generation,
        status: outcome.status,
        code: outcome.code,
        message: outcome.message,
      };
      // 409: the pod has a newer generation than its telemetry showed; the next round reads it
      // and tries again (after the dwell time). Other refusals stand until the plan changes.
      this.refuse(regarding, state, outcome.status === 409 ? '' : want, refusal);
      return refusal;
    }
    this.deps.log.debug({ pod: pod.name, why: outcome.message }, 'plan push did not arrive');
    return state.refusal?.refusal;
  }

  /** The pod's memory and baseline, when its memory can be resized in place; else undefined. */
  private resizable(
    pod: ReplanPod,
    startPlan: PlanStatus | undefined,
  ): { memory: PodMemory; baseBytes: number } | undefined {
    if (this.deps.resize === undefined || pod.pod === undefined || startPlan === undefined)
      return undefined;
    let memory: PodMemory | undefined;
    try {
      memory = podMemory(pod.pod, CONTAINER_NAME);
    } catch (error) {
      if (!(error instanceof PodResizeReadError)) throw error;
      this.deps.log.warn({ pod: pod.name, err: error }, 'pod memory unreadable; no resize');
      return undefined;
    }
    if (memory === undefined) return undefined;
    return { memory, baseBytes: startPlan.podMemoryBytes - startPlan.hostMemoryBytes };
  }

  private async resizePod(
    regarding: Regarding,
    pod: ReplanPod,
    state: PodState,
    memory: PodMemory,
    step: { direction: 'grow' | 'shrink'; memoryBytes: number; reason: string },
  ): Promise<PlanRefusal | undefined> {
    const resize = this.deps.resize;
    if (resize === undefined) return undefined;
    state.lastResizeMs = this.deps.now();
    try {
      await resize(regarding.namespace, pod.name, step.memoryBytes);
      delete state.rejected;
      delete state.rejectedAtMs;
    } catch (error) {
      // Forbidden (feature off, RBAC), quota or limit range: the plan in force stays, said once.
      const refusal: PlanRefusal = {
        pod: pod.name,
        generation: 0,
        status: 0,
        code: `${RESIZE_REFUSAL_PREFIX}Rejected`,
        message: `memory resize to ${step.memoryBytes} bytes rejected by the API server: ${error instanceof Error ? error.message : String(error)}; the plan stays within the ${memory.appliedBytes} bytes the pod has`,
      };
      state.rejected = refusal;
      state.rejectedAtMs = this.deps.now();
      this.refuse(regarding, state, `resize-rejected:${step.memoryBytes}`, refusal);
      return refusal;
    }
    this.deps.log.info(
      { pod: pod.name, from: memory.appliedBytes, to: step.memoryBytes, why: step.reason },
      'pod memory resized in place',
    );
    this.deps.events?.emit(
      regarding,
      'Normal',
      EVENT_REASONS.PodResized,
      'Resize',
      `pod ${pod.name}: memory ${memory.appliedBytes} -> ${step.memoryBytes} bytes (${step.direction}): ${step.reason}`,
    );
    return undefined;
  }

  private refuse(regarding: Regarding, state: PodState, want: string, refusal: PlanRefusal): void {
    if (state.refusal?.want === want) return;
    state.refusal = { want, refusal };
    this.deps.log.warn({ refusal }, 'plan refused; the plan in force stays');
    this.deps.events?.emit(
      regarding,
      'Warning',
      EVENT_REASONS.PlanRefused,
      'Replan',
      describeRefusal(refusal),
    );
  }
}

export function describeRefusal(r: PlanRefusal): string {
  if (r.status === 0 && r.code.startsWith(RESIZE_REFUSAL_PREFIX))
    return `pod ${r.pod}: memory resize not applied (${r.code}): ${r.message}`;
  return r.status === 0
    ? `pod ${r.pod}: no plan from its measurement (${r.code}): ${r.message}; its plan in force stays`
    : `pod ${r.pod} refused plan generation ${r.generation} (${r.status} ${r.code}): ${r.message}; its plan in force stays`;
}
