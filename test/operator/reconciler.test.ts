import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { LABELS, type SelectNDeploymentSpecInput } from '../../src/api/index.ts';
import { Reconciler, type StoredDeployment } from '../../src/operator/reconciler.ts';
import type { Pod, Secret, Service } from '../../src/operator/kube/types.ts';
import { ApiError } from '../../src/operator/errors.ts';
import {
  aggregateTelemetry,
  podFigures,
  type PodTelemetry,
} from '../../src/operator/telemetry/aggregate.ts';
import type { DeploymentTelemetry, TelemetryView } from '../../src/operator/telemetry/loop.ts';
import { Autoscaler } from '../../src/operator/autoscaler.ts';
import { FakeApi, FakeCache, stored, withState } from './fixtures.ts';
import { snapshot } from './telemetry-fixtures.ts';

function setup(
  spec: Partial<SelectNDeploymentSpecInput> = {},
  telemetry?: TelemetryView,
  autoscaler?: Autoscaler,
) {
  const deployments = new FakeCache<StoredDeployment>();
  const pods = new FakeCache<Pod>();
  const services = new FakeCache<Service>();
  const secrets = new FakeCache<Secret>();
  const api = new FakeApi(pods, services, secrets, deployments);
  deployments.put(stored(spec));
  const reconciler = new Reconciler({
    api,
    deployments,
    pods,
    services,
    secrets,
    planner: undefined,
    events: undefined,
    ...(telemetry ? { telemetry } : {}),
    ...(autoscaler ? { autoscaler } : {}),
    options: { localRunner: false },
    now: () => new Date('2025-01-01T00:00:00Z'),
  });
  const run = () => reconciler.reconcile('ns/demo', silentLogger());
  const markAll = (state: Parameters<typeof withState>[1]) => {
    for (const p of pods.list()) pods.put(withState(p, state));
  };
  return { deployments, pods, services, secrets, api, run, markAll };
}

describe('reconcile', () => {
  it('creates the secret, service and pods, then reports Ready once pods are', async () => {
    const t = setup({ replicas: 2 });
    const first = await t.run();
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(t.pods.list()).toHaveLength(2);
    expect(t.secrets.list()).toHaveLength(1);
    expect(t.services.list()).toHaveLength(1);
    let status = t.deployments.get('demo', 'ns')?.status;
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(status?.plan?.basis).toBe('fallback');
    t.markAll({ ready: true });
    expect(await t.run()).toEqual({});
    status = t.deployments.get('demo', 'ns')?.status;
    expect(status?.readyReplicas).toBe(2);
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllReplicasReady',
    });
  });

  it('is idempotent: a second pass with nothing changed writes nothing', async () => {
    const t = setup({ replicas: 1 });
    await t.run();
    t.markAll({ ready: true });
    await t.run();
    const calls = t.api.calls.length;
    await t.run();
    expect(t.api.calls.length).toBe(calls);
  });

  it('creates no duplicate pods when the cache lags behind its own creates (operator restart mid-pass)', async () => {
    const t = setup({ replicas: 3 });
    t.api.lagging = true;
    await t.run();
    await t.run(); // cache still empty: same names are refused with AlreadyExists
    const creates = t.api.calls.filter((c) => c.verb === 'create' && c.path.endsWith('/pods'));
    expect(creates).toHaveLength(6);
    expect(new Set(creates.map((c) => c.body?.metadata.name)).size).toBe(3);
  });

  it('creates the pods without waiting for the Service, then fails the pass with its error', async () => {
    const t = setup({ replicas: 2 });
    t.api.serviceError = new ApiError(500, 'InternalError', 'ClusterIP allocation failed');
    await expect(t.run()).rejects.toThrow('ClusterIP allocation failed');
    expect(t.pods.list()).toHaveLength(2);
    expect(t.secrets.list()).toHaveLength(1);
    expect(t.services.list()).toHaveLength(0);
    // The retry makes the Service and creates no second set of pods.
    t.api.serviceError = undefined;
    await t.run();
    expect(t.services.list()).toHaveLength(1);
    expect(t.pods.list()).toHaveLength(2);
  });

  it('scales with spec.replicas', async () => {
    const t = setup({ replicas: 3 });
    await t.run();
    t.markAll({ ready: true });
    const dep = t.deployments.get('demo', 'ns');
    if (!dep) throw new Error('fixture');
    t.deployments.put({
      ...dep,
      spec: { ...(dep.spec as object), replicas: 1 },
      metadata: { ...dep.metadata, generation: 2 },
    });
    await t.run();
    expect(t.pods.list()).toHaveLength(1);
    expect(t.pods.list()[0]?.metadata.name).toMatch(/-0$/);
  });

  it('rolls pods to a new template when the SLO changes', async () => {
    const t = setup({ replicas: 2 });
    await t.run();
    t.markAll({ ready: true });
    const oldHash = t.api.podHashes()[0];
    const dep = t.deployments.get('demo', 'ns');
    if (!dep) throw new Error('fixture');
    t.deployments.put({
      ...dep,
      spec: { ...(dep.spec as object), slo: { ttftMs: 900, tpotMs: 90 } },
      metadata: { ...dep.metadata, generation: 2 },
    });
    for (let i = 0; i < 10; i++) {
      await t.run();
      t.markAll({ ready: true });
      expect(t.pods.list().length).toBeLessThanOrEqual(3);
    }
    const hashes = t.api.podHashes();
    expect(hashes).toHaveLength(2);
    expect(hashes.every((h) => h !== oldHash)).toBe(true);
    const pod = t.pods.list()[0];
    const env =
      (pod?.spec as { containers: { env: { name: string; value?: string }[] }[] }).containers[0]
        ?.env ?? [];
    expect(env.find((e) => e.name === 'SELECTN_SLO_TTFT_MS')?.value).toBe('900');
  });

  it('reports Unschedulable pods as Degraded', async () => {
    const t = setup({ replicas: 1, resources: { gpu: { count: 64 } } });
    await t.run();
    t.markAll({ unschedulable: '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' });
    await t.run();
    const degraded = t.deployments
      .get('demo', 'ns')
      ?.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'Unschedulable' });
  });

  it('records an invalid spec in status without touching pods, and does not retry', async () => {
    const t = setup();
    const dep = t.deployments.get('demo', 'ns');
    if (!dep) throw new Error('fixture');
    t.deployments.put({ ...dep, spec: { ...(dep.spec as object), replicas: -1 } });
    expect(await t.run()).toEqual({});
    expect(t.pods.list()).toHaveLength(0);
    const ready = t.deployments
      .get('demo', 'ns')
      ?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready?.message).toContain('spec.replicas');
  });

  it('does nothing for a resource that is gone', async () => {
    const t = setup();
    t.deployments.remove('demo', 'ns');
    expect(await t.run()).toEqual({});
    expect(t.api.calls).toHaveLength(0);
  });

  it('labels its pods for the owner selector', async () => {
    const t = setup();
    await t.run();
    expect(t.pods.list()[0]?.metadata.labels?.[LABELS.deployment]).toBe('demo');
  });

  it("puts the telemetry loop's published figures into status and SLOMet", async () => {
    let published: DeploymentTelemetry | undefined;
    const t = setup(
      { replicas: 2 },
      { view: (key) => (key === 'ns/demo' ? published : undefined) },
    );
    await t.run();
    t.markAll({ ready: true });
    const [a, b] = t.pods.list().map((p) => p.metadata.name ?? '');
    const fresh = snapshot({ finished: 200, violated: 1, interval: 3 });
    const pods = new Map<string, PodTelemetry>([
      [a ?? '', { stale: false, figures: podFigures(fresh) }],
      [b ?? '', { stale: true, staleReason: 'timeout' }],
    ]);
    published = {
      telemetry: aggregateTelemetry([fresh]),
      pods,
      snapshots: new Map([[a ?? '', fresh]]),
      refusals: [],
    };
    await t.run();
    const status = t.deployments.get('demo', 'ns')?.status;
    expect(status?.telemetry?.sloAttainment).toBe(0.995);
    expect(status?.conditions?.find((c) => c.type === 'SLOMet')).toMatchObject({
      status: 'True',
      reason: 'SLOAttained',
    });
    expect(status?.display?.slo).toBe('99.5%');
    expect(status?.pods?.find((p) => p.name === a)).toMatchObject({
      interval: 3,
      bus: 'node-0/cpu',
    });
    expect(status?.pods?.find((p) => p.name === b)).toMatchObject({ telemetryStale: true });
    // Unchanged figures: no write. The loop not having polled yet (a restart): figures kept.
    const calls = t.api.calls.length;
    await t.run();
    published = undefined;
    await t.run();
    expect(t.api.calls.length).toBe(calls);
    // Every pod stale: no figures, SLOMet Unknown saying why.
    published = {
      telemetry: undefined,
      pods: new Map([[a ?? '', { stale: true, staleReason: 'connect ECONNREFUSED' }]]),
      snapshots: new Map(),
      refusals: [],
    };
    await t.run();
    expect(
      t.deployments.get('demo', 'ns')?.status?.conditions?.find((c) => c.type === 'SLOMet'),
    ).toMatchObject({ status: 'Unknown', reason: 'NoTelemetry' });
    expect(
      t.deployments.get('demo', 'ns')?.status?.conditions?.find((c) => c.type === 'SLOMet')
        ?.message,
    ).toMatch(/ECONNREFUSED/);
  });

  it('autoscales through the scale subresource and reports desiredReplicas', async () => {
    let published: DeploymentTelemetry | undefined = undefined;
    const t = setup(
      { replicas: 1, autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 } },
      { view: () => published },
      new Autoscaler(0),
    );
    await t.run();
    t.markAll({ ready: true });
    const missing = snapshot({ finished: 10, violated: 5 });
    published = {
      telemetry: aggregateTelemetry([missing]),
      pods: new Map(),
      snapshots: new Map(),
      refusals: [],
    };
    const outcome = await t.run();
    expect(outcome.requeueAfterMs).toBeGreaterThan(0);
    expect(t.api.calls.filter((c) => c.verb === 'scale')).toEqual([
      {
        verb: 'scale',
        path: '/apis/serving.selectn.dev/v1alpha1/namespaces/ns/selectndeployments/demo/scale',
      },
    ]);
    const dep = t.deployments.get('demo', 'ns');
    expect((dep?.spec as { replicas: number }).replicas).toBe(2);
    expect(dep?.status?.desiredReplicas).toBe(2);
    await t.run();
    expect(t.pods.list()).toHaveLength(2);
  });
});
