// The slow-loop plan in force on this pod (src/api PlanWire): interval range, host-memory target
// and copy bandwidth budget. A PUT from the operator is checked (generation, feasibility), then
// applied between iterations and acknowledged with the plan actually in force.
import type { PlanAck, PlanWire } from '../api/index.ts';
import type { EngineLoop } from './engine-loop.ts';
import { ServerError } from './errors.ts';

/** Interval on the wire (null: nothing offloaded) to the planner's encoding (0). */
export function intervalFromWire(n: number | null): number {
  return n ?? 0;
}

export function intervalToWire(n: number): number | null {
  return n === 0 ? null : n;
}

/** What applying a plan changes; implemented over the policy and the runtime. */
export interface PlanTarget {
  readonly numLayers: number;
  /** Pinned host bytes the offload set of interval N needs (0 for N = none). */
  hostBytesFor(interval: number): number;
  /** Makes the online policy choose within [min, max] (planner encoding, 0 = none). */
  setRange(min: number, max: number): void;
  /** Sizes the pinned host pool for the offload set of nMin; throws if it cannot. */
  setHostInterval(nMin: number): void;
  /** Pinned host limit now (bytes; Infinity: none). */
  hostLimitBytes(): number;
  /**
   * Resizes the pinned host pool's limit to a pushed plan's hostMemoryBytes (the operator
   * resized the pod's memory in place first when it grows); a lower limit takes effect once the
   * pool released the layers above it.
   */
  setHostLimit(bytes: number): void;
  /** Paces copies (bytes/s; Infinity: unpaced). */
  setBandwidthBudget(bytesPerS: number): void;
}

export class PlanController {
  private plan: PlanWire;
  private appliedAt: string;
  private readonly target: PlanTarget;
  private readonly engine: EngineLoop;

  constructor(initial: PlanWire, target: PlanTarget, engine: EngineLoop) {
    this.plan = initial;
    this.appliedAt = new Date().toISOString();
    this.target = target;
    this.engine = engine;
  }

  current(): PlanWire {
    return this.plan;
  }

  /** Applies the initial plan synchronously (the engine loop is not running yet). */
  applyInitial(): PlanWire {
    const { plan } = this.resolve(this.plan);
    this.applyNow(plan);
    return plan;
  }

  async apply(requested: PlanWire): Promise<PlanAck> {
    if (requested.generation < this.plan.generation) {
      throw new ServerError(
        'SN_ERR_STALE_PLAN',
        `plan generation ${requested.generation} is older than generation ${this.plan.generation} in force`,
        { param: 'generation' },
      );
    }
    const { plan, note } = this.resolve(requested);
    await this.engine.runBetween(() => {
      this.applyNow(plan, true);
    });
    const ack: PlanAck = { accepted: true, plan, appliedAt: this.appliedAt };
    if (note !== undefined) ack.note = note;
    return ack;
  }

  /** Checks feasibility and clamps to what this model supports. */
  private resolve(requested: PlanWire): { plan: PlanWire; note?: string } {
    const L = this.target.numLayers;
    const notes: string[] = [];
    const clamp = (n: number | null, field: string): number | null => {
      if (n !== null && n > L) {
        notes.push(`interval.${field} ${n} exceeds the ${L} layers; using ${L}`);
        return L;
      }
      return n;
    };
    const min = clamp(requested.interval.min, 'min');
    const max = clamp(requested.interval.max, 'max');
    const needed = this.target.hostBytesFor(intervalFromWire(min));
    if (needed > requested.hostMemoryBytes) {
      throw new ServerError(
        'SN_ERR_PLAN_INFEASIBLE',
        `hostMemoryBytes ${requested.hostMemoryBytes} cannot hold the ${needed} bytes of the layers offloaded at interval.min ${min ?? 'none'}`,
        { param: 'hostMemoryBytes' },
      );
    }
    const plan: PlanWire = { ...requested, interval: { min, max } };
    return notes.length === 0 ? { plan } : { plan, note: notes.join('; ') };
  }

  /** `resize`: a pushed plan's hostMemoryBytes becomes the pool's limit (the start-up one stays). */
  private applyNow(plan: PlanWire, resize = false): void {
    const min = intervalFromWire(plan.interval.min);
    const max = intervalFromWire(plan.interval.max);
    const limitBefore = this.target.hostLimitBytes();
    try {
      if (resize) this.target.setHostLimit(plan.hostMemoryBytes);
      this.target.setHostInterval(min);
    } catch (error) {
      if (resize) this.target.setHostLimit(limitBefore);
      throw new ServerError(
        'SN_ERR_PLAN_INFEASIBLE',
        `host pool cannot hold interval ${min}: ${error instanceof Error ? error.message : String(error)}`,
        { param: 'hostMemoryBytes', cause: error },
      );
    }
    this.target.setRange(min, max);
    this.target.setBandwidthBudget(plan.bandwidthBudgetBytesPerSecond ?? Infinity);
    this.plan = plan;
    this.appliedAt = new Date().toISOString();
  }
}
