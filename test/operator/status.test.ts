import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/api/index.ts';
import { computeStatus, statusChanged, type StatusInput } from '../../src/operator/status.ts';
import { buildPod } from '../../src/operator/pod.ts';
import { computePlan } from '../../src/operator/plan.ts';
import type { Pod } from '../../src/operator/kube/types.ts';
import { owner, withState, type PodState } from './fixtures.ts';

const o = owner();
const plan = computePlan(o.spec, 1, undefined, new Date('2025-01-01T00:00:00Z'));
const hashOf = (p: Pod) => p.metadata.labels?.['serving.selectn.dev/template-hash'];

function pods(...states: PodState[]): Pod[] {
  return states.map((s, i) => withState(buildPod(o, plan, i, { localRunner: false }), s));
}

function input(over: Partial<StatusInput>): StatusInput {
  const ps = over.pods ?? [];
  return {
    generation: 3,
    replicas: 2,
    selector: 'sel',
    templateHash: ps[0] ? hashOf(ps[0]) : 'h',
    pods: ps,
    plan,
    rollout: 'Complete',
    specError: undefined,
    previous: undefined,
    telemetry: undefined,
    sloTarget: 0.99,
    now: new Date('2025-01-02T00:00:00Z'),
    ...over,
  };
}

function cond(status: { conditions?: Condition[] }, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

describe('status', () => {
  it('is Ready when all desired pods are ready on the current template', () => {
    const s = computeStatus(input({ pods: pods({ ready: true }, { ready: true }) }));
    expect(s).toMatchObject({
      observedGeneration: 3,
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      selector: 'sel',
    });
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllReplicasReady',
      observedGeneration: 3,
    });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(cond(s, 'SLOMet')).toMatchObject({ status: 'Unknown', reason: 'NoTelemetry' });
    expect(s.display).toEqual({ ready: '2/2', interval: 'auto', slo: '-' });
  });

  it('reports Unschedulable with the scheduler message and stalls progress', () => {
    const s = computeStatus(
      input({
        pods: pods({ unschedulable: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' }),
        rollout: 'WaitingForPods',
      }),
    );
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unschedulable' });
    expect(cond(s, 'Degraded')?.message).toContain('Insufficient nvidia.com/gpu');
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Stalled' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'NoReplicasReady' });
  });

  it('reports CrashLooping with restarts and last exit', () => {
    const s = computeStatus(input({ pods: pods({ ready: true }, { crashLoop: true }) }));
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLooping' });
    expect(cond(s, 'Degraded')?.message).toContain('restarted 5 times (last exit 1 Error)');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PartiallyReady' });
    expect(s.pods?.[0]).toMatchObject({ ready: false, reason: 'CrashLooping' });
  });

  it('reports a spec error as InvalidSpec readiness and its own Degraded reason', () => {
    const s = computeStatus(
      input({ specError: { reason: 'InvalidModel', message: 'spec.model.catalogName: unknown' } }),
    );
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidModel' });
  });

  it('counts terminating pods out and old-template pods as not updated', () => {
    const ps = pods({ ready: true }, { ready: true, terminating: true });
    const s = computeStatus(input({ pods: ps, templateHash: 'other', rollout: 'RollingUpdate' }));
    expect(s).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
      updatedReplicas: 0,
      availableReplicas: 0,
    });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingUpdate' });
  });

  it('is Ready with ScaledToZero at zero replicas', () => {
    expect(cond(computeStatus(input({ replicas: 0 })), 'Ready')).toMatchObject({
      status: 'True',
      reason: 'ScaledToZero',
    });
  });

  it('judges SLOMet from telemetry against the target', () => {
    const telemetry = {
      sloAttainment: 0.95,
      tokensPerSecond: 10,
      ttftP99Ms: 1,
      tpotP99Ms: 1,
      queueDepth: 0,
      meanInterval: 2,
      hostMemoryUsedBytes: 0,
      copyBandwidthBytesPerSecond: 0,
      observedAt: '2025-01-01T00:00:00Z',
    };
    const s = computeStatus(input({ telemetry }));
    expect(cond(s, 'SLOMet')).toMatchObject({ status: 'False', reason: 'SLOViolated' });
    expect(s.display?.slo).toBe('95.0%');
    expect(
      cond(computeStatus(input({ telemetry: { ...telemetry, sloAttainment: 0.999 } })), 'SLOMet')
        ?.reason,
    ).toBe('SLOAttained');
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const first = computeStatus(input({ pods: pods({ ready: true }, { ready: true }) }));
    const later = computeStatus(
      input({
        pods: pods({ ready: true }, { ready: true }),
        previous: first.conditions,
        now: new Date('2025-02-01T00:00:00Z'),
      }),
    );
    expect(cond(later, 'Ready')?.lastTransitionTime).toBe('2025-01-02T00:00:00.000Z');
    expect(statusChanged(first, later)).toBe(false);
    const down = computeStatus(
      input({
        pods: pods({ ready: true }, { ready: false }),
        previous: first.conditions,
        now: new Date('2025-02-01T00:00:00Z'),
      }),
    );
    expect(cond(down, 'Ready')?.lastTransitionTime).toBe('2025-02-01T00:00:00.000Z');
    expect(statusChanged(first, down)).toBe(true);
  });
});
