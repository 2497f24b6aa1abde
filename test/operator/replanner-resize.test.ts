// The replanner with in-place memory resize, over a simulated pod whose plan pushes, pool and
// memory behave as the server and the kubelet do: narrowing from below pushes the plan first and
// lowers the memory only once the pool released it; widening raises the memory, waits until it
// is applied, then pushes; a refused or rejected resize keeps the plan within the pod's memory.
import { describe, expect, it } from 'vitest';
import { WIRE_SCHEMA_VERSION, type PlanStatus, type PlanWire } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { Pod } from '../../src/operator/kube/types.ts';
import { planFromMeasurement } from '../../src/operator/replan.ts';
import {
  describeRefusal,
  REJECTION_RETRY_DWELLS,
  Replanner,
  type PlanRefusal,
} from '../../src/operator/telemetry/replanner.ts';
import type { PushOutcome } from '../../src/operator/telemetry/push.ts';
import { builtinModel, hostMemoryAtInterval } from '../../src/planner/index.ts';
import { owner } from './fixtures.ts';
import { planningInputs } from './replan-fixtures.ts';
import { snapshot } from './telemetry-fixtures.ts';

const slo = { ttftMs: 3000, tpotMs: 150 };
const spec = owner({ slo }).spec;
const planning = planningInputs();
const model = { ...builtinModel('llama-13b'), name: 'my-finetune' };
const BASE = 8 * 2 ** 30;
const DWELL = 30_000;
const free = planFromMeasurement({ planning, slo, bounds: undefined, hostCeilingBytes: Infinity });
const wanted = free.hostMemoryBytes;

/** One serving pod as the server and the kubelet keep it. */
class SimPod {
  plan: PlanWire;
  hostUsed: number;
  specMemory: number;
  appliedMemory: number;
  conditions: { type: string; status: string; reason?: string; message?: string }[] = [];
  readonly pushes: PlanWire[] = [];
  readonly resizes: number[] = [];
  resizeError: Error | undefined;

  constructor(intervalMin: number) {
    const host = hostMemoryAtInterval(model, intervalMin);
    this.plan = {
      schemaVersion: WIRE_SCHEMA_VERSION,
      generation: 0,
      interval: { min: intervalMin, max: null },
      hostMemoryBytes: host,
      bandwidthBudgetBytesPerSecond: null,
      layerSelection: 'nested',
      basis: 'planner: start-up',
      issuedAt: '2025-01-01T00:00:00.000Z',
    };
    this.hostUsed = host;
    this.specMemory = BASE + host;
    this.appliedMemory = BASE + host;
  }

  startPlan(): PlanStatus {
    return {
      intervalMin: this.plan.interval.min,
      intervalMax: null,
      offloadedLayersMax: 0,
      hostMemoryBytes: this.plan.hostMemoryBytes,
      hostMemory: '',
      podMemoryBytes: BASE + this.plan.hostMemoryBytes,
      basis: 'planner',
      detail: '',
      computedAt: '2025-01-01T00:00:00.000Z',
      specGeneration: 1,
    };
  }

  object(): Pod {
    const m = String(this.specMemory);
    const a = String(this.appliedMemory);
    return {
      metadata: { name: 'p-0', namespace: 'ns', uid: 'uid-p-0' },
      spec: {
        containers: [
          { name: 'serve', resources: { requests: { memory: m }, limits: { memory: m } } },
        ],
      },
      status: {
        conditions: this.conditions,
        containerStatuses: [
          {
            name: 'serve',
            ready: true,
            restartCount: 0,
            resources: { requests: { memory: a }, limits: { memory: a } },
          } as never,
        ],
      },
    };
  }

  push = (_url: string, _token: string, plan: PlanWire): Promise<PushOutcome> => {
    this.pushes.push(plan);
    // The server's own check: the pool must fit in the memory the pod has.
    if (plan.hostMemoryBytes > this.appliedMemory - BASE)
      return Promise.resolve({ kind: 'refused', status: 422, code: 'OOM', message: 'no room' });
    this.plan = plan;
    return Promise.resolve({ kind: 'applied', ack: { accepted: true, plan, appliedAt: '' } });
  };

  resize = (_ns: string, _name: string, bytes: number): Promise<void> => {
    if (this.resizeError) return Promise.reject(this.resizeError);
    this.resizes.push(bytes);
    this.specMemory = bytes;
    return Promise.resolve();
  };

  /** The kubelet applies the resize asked for. */
  applyResize(): void {
    this.appliedMemory = this.specMemory;
  }
}

function harness(pod: SimPod, withResize = true) {
  let now = 0;
  const replanner = new Replanner(
    {
      push: pod.push,
      ...(withResize ? { resize: pod.resize } : {}),
      events: undefined,
      log: silentLogger(),
      now: () => now,
    },
    { dwellMs: DWELL, timeoutMs: 1000 },
  );
  const start = pod.startPlan();
  const round = async (): Promise<PlanRefusal[]> => {
    now += DWELL + 1;
    const s = snapshot({ hostUsedBytes: pod.hostUsed });
    s.plan = pod.plan;
    s.planning = planning;
    return replanner.replan(
      { name: 'demo', namespace: 'ns', uid: 'uid-demo' },
      spec,
      start,
      'token',
      [{ name: 'p-0', uid: 'uid-p-0', url: 'http://x', snapshot: s, pod: pod.object() }],
    );
  };
  return { round };
}

describe('replanner with in-place memory resize', () => {
  it('narrowing from below: pushes, waits for the pool to shrink, then lowers the memory', async () => {
    const pod = new SimPod(1); // every layer offloaded: more host memory than the plan wants
    expect(pod.plan.hostMemoryBytes).toBeGreaterThan(wanted);
    const { round } = harness(pod);

    expect(await round()).toEqual([]);
    expect(pod.pushes).toHaveLength(1);
    expect(pod.plan.hostMemoryBytes).toBe(wanted);
    expect(pod.resizes).toEqual([]);

    // The pool still holds the old set: the memory stays.
    await round();
    expect(pod.resizes).toEqual([]);

    pod.hostUsed = wanted;
    await round();
    expect(pod.resizes).toEqual([BASE + wanted]);
    pod.applyResize();

    await round();
    await round();
    expect(pod.resizes).toHaveLength(1);
    expect(pod.pushes).toHaveLength(1);
  });

  it('widening: raises the memory, waits until it is applied, then pushes', async () => {
    const pod = new SimPod(model.numLayers); // one layer offloaded: less than the plan wants
    expect(pod.plan.hostMemoryBytes).toBeLessThan(wanted);
    const { round } = harness(pod);

    await round();
    expect(pod.resizes).toEqual([BASE + wanted]);
    expect(pod.pushes).toEqual([]);

    await round(); // asked, not applied yet
    expect(pod.resizes).toHaveLength(1);
    expect(pod.pushes).toEqual([]);

    pod.applyResize();
    expect(await round()).toEqual([]);
    expect(pod.pushes).toHaveLength(1);
    expect(pod.plan.hostMemoryBytes).toBe(wanted);
    expect(pod.plan.interval.min).toBe(free.intervalMin);
  });

  it('a refused resize keeps the plan within the memory the pod has, and says why', async () => {
    const pod = new SimPod(model.numLayers);
    const { round } = harness(pod);
    await round();
    expect(pod.resizes).toEqual([BASE + wanted]);
    pod.conditions = [
      {
        type: 'PodResizePending',
        status: 'True',
        reason: 'Infeasible',
        message: 'no memory on node',
      },
    ];
    const refusals = await round();
    expect(refusals).toEqual([
      expect.objectContaining({ pod: 'p-0', code: 'ResizeInfeasible', status: 0 }),
    ]);
    expect(refusals[0]?.message).toMatch(/no memory on node/);
    // As the Degraded condition words it.
    expect(describeRefusal(refusals[0] as PlanRefusal)).toMatch(
      /^pod p-0: memory resize not applied \(ResizeInfeasible\): memory resize to \d+ bytes not applied: no memory on node/,
    );
    // Never a wider plan than the memory behind it.
    for (const p of pod.pushes)
      expect(p.hostMemoryBytes).toBeLessThanOrEqual(pod.appliedMemory - BASE);
    expect(pod.plan.hostMemoryBytes).toBeLessThanOrEqual(pod.appliedMemory - BASE);
  });

  it('a resize the API server rejects keeps the plan within the pod, then is tried again', async () => {
    const pod = new SimPod(model.numLayers);
    pod.resizeError = new Error('pods "p-0" is forbidden: exceeded quota');
    const { round } = harness(pod);
    const refusals = await round();
    expect(refusals).toEqual([expect.objectContaining({ code: 'ResizeRejected' })]);
    expect(refusals[0]?.message).toMatch(/exceeded quota/);
    expect(pod.pushes).toEqual([]);
    // Next rounds: the rejection stands, plans stay within the memory the pod has.
    for (let i = 0; i < 3; i++) {
      expect(await round()).toEqual([expect.objectContaining({ code: 'ResizeRejected' })]);
      expect(pod.plan.hostMemoryBytes).toBeLessThanOrEqual(pod.appliedMemory - BASE);
    }
    expect(pod.resizes).toEqual([]);
    // After REJECTION_RETRY_DWELLS dwell times the resize is asked for again.
    pod.resizeError = undefined;
    for (let i = 0; i < REJECTION_RETRY_DWELLS; i++) await round();
    expect(pod.resizes).toEqual([BASE + wanted]);
  });

  it('without resize the plan stays within what the pod holds (no memory change)', async () => {
    const pod = new SimPod(model.numLayers);
    const { round } = harness(pod, false);
    await round();
    expect(pod.resizes).toEqual([]);
    expect(pod.plan.hostMemoryBytes).toBeLessThanOrEqual(pod.appliedMemory - BASE);
  });
});
