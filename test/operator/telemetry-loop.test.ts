// The telemetry loop over real HTTP: fake serving pods on 127.0.0.x answer (or not) their
// telemetry endpoint; the loop reads them with the token from the Secret, marks pods stale,
// reports invalid telemetry once, and publishes only meaningful changes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SelectNDeploymentSpecInput } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { EventRecorder } from '../../src/operator/events.ts';
import type { KubeObject, Pod, Secret } from '../../src/operator/kube/types.ts';
import { computePlan } from '../../src/operator/plan.ts';
import { buildPod } from '../../src/operator/pod.ts';
import { realClock } from '../../src/operator/queue.ts';
import type { StoredDeployment } from '../../src/operator/reconciler.ts';
import { computeStatus } from '../../src/operator/status.ts';
import { TelemetryLoop } from '../../src/operator/telemetry/loop.ts';
import { FakeCache, owner, stored, withState } from './fixtures.ts';
import { intervalOrder } from '../../src/planner/index.ts';
import { planningInputs } from './replan-fixtures.ts';
import { snapshot, TelemetryPod } from './telemetry-fixtures.ts';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

interface World {
  loop: TelemetryLoop;
  pods: FakeCache<Pod>;
  fakes: TelemetryPod[];
  changes: string[];
  events: KubeObject[];
  secretReads: number;
  token: string;
  secrets: FakeCache<Secret>;
  /** Pod names by index (pod i runs at HOSTS[i]). */
  names: string[];
}

let w: World;

async function world(spec: Partial<SelectNDeploymentSpecInput> = {}): Promise<World> {
  const fakes = HOSTS.map(() => new TelemetryPod('tok-1'));
  const port = await (fakes[0] as TelemetryPod).listen(HOSTS[0] as string, 0);
  for (let i = 1; i < fakes.length; i++)
    await (fakes[i] as TelemetryPod).listen(HOSTS[i] as string, port);
  const o = owner({ replicas: 3, server: { port }, ...spec });
  const deployments = new FakeCache<StoredDeployment>();
  deployments.put(stored({ replicas: 3, server: { port }, ...spec }));
  const plan = computePlan(o.spec, 1, undefined, new Date());
  const pods = new FakeCache<Pod>();
  const names: string[] = [];
  HOSTS.forEach((ip, i) => {
    const pod = withState(buildPod(o, plan, i, { localRunner: false }), { ready: true });
    pods.put({ ...pod, status: { ...pod.status, podIP: ip } });
    names.push(pod.metadata.name ?? '');
  });
  const secrets = new FakeCache<Secret>();
  secrets.put({ metadata: { name: 'demo-control', namespace: 'ns', resourceVersion: '1' } });
  const events: KubeObject[] = [];
  const recorder = new EventRecorder(
    {
      create: (_path, body) => {
        events.push(body);
        return Promise.resolve(body);
      },
    },
    'test',
    silentLogger(),
  );
  const out: World = {
    fakes,
    pods,
    changes: [],
    events,
    secretReads: 0,
    token: 'tok-1',
    secrets,
    names,
    loop: undefined as unknown as TelemetryLoop,
  };
  out.loop = new TelemetryLoop(
    {
      deployments,
      pods,
      secrets,
      getSecret: (namespace, name) => {
        out.secretReads++;
        return Promise.resolve({
          metadata: {
            name,
            namespace,
            resourceVersion: secrets.get(name, namespace)?.metadata.resourceVersion ?? '1',
          },
          data: { token: Buffer.from(`${out.token}\n`).toString('base64') },
        });
      },
      events: recorder,
      onChange: (key) => out.changes.push(key),
      clock: realClock,
      log: silentLogger(),
    },
    { periodMs: 1000, timeoutMs: 1000, concurrency: 2, dwellMs: 0 },
  );
  return out;
}

beforeEach(async () => {
  w = await world();
});

afterEach(async () => {
  await w.loop.stop();
  await Promise.all(w.fakes.map((f) => f.close()));
});

const fake = (i: number) => w.fakes[i] as TelemetryPod;
const name = (i: number) => w.names[i] as string;

describe('telemetry loop', () => {
  it('reads every ready pod with the Secret token and publishes the aggregate', async () => {
    fake(0).answer = { kind: 'snapshot', snapshot: snapshot({ finished: 50, tokensPerS: 10 }) };
    fake(1).answer = { kind: 'snapshot', snapshot: snapshot({ finished: 50, violated: 10 }) };
    fake(2).answer = { kind: 'snapshot', snapshot: snapshot({ interval: 2 }) };
    await w.loop.round();
    const view = w.loop.view('ns/demo');
    expect(view?.telemetry).toMatchObject({ sloAttainment: 100 / 110, tokensPerSecond: 210 });
    expect([...(view?.pods.values() ?? [])].map((p) => p.figures?.interval)).toEqual([4, 4, 2]);
    expect(w.changes).toEqual(['ns/demo']);
    expect(w.secretReads).toBe(1);
    expect(w.fakes.map((f) => f.reads)).toEqual([1, 1, 1]);

    // The same figures again (new timestamps): no change to publish, the token is reused.
    fake(2).answer = {
      kind: 'snapshot',
      snapshot: snapshot({ interval: 2, observedAt: '2025-01-01T00:01:00.000Z' }),
    };
    await w.loop.round();
    expect(w.changes).toEqual(['ns/demo']);
    expect(w.secretReads).toBe(1);
  });

  it('marks a pod that does not answer in time stale and leaves its figures out', async () => {
    fake(0).answer = { kind: 'snapshot', snapshot: snapshot({ finished: 10, violated: 10 }) };
    fake(1).answer = { kind: 'hang' };
    fake(2).answer = { kind: 'snapshot', snapshot: snapshot({ finished: 10, violated: 0 }) };
    await w.loop.round();
    const view = w.loop.view('ns/demo');
    const stale = view?.pods.get(name(1));
    expect(stale?.stale).toBe(true);
    expect(stale?.figures).toBeUndefined();
    expect(stale?.staleReason).toMatch(/127\.0\.0\.2/);
    expect(view?.telemetry?.sloAttainment).toBe(0.5);

    // The status built from it: SLOMet False from the two fresh pods, the stale one marked.
    const o = owner({ replicas: 3 });
    const status = computeStatus({
      generation: 1,
      replicas: 3,
      selector: 's',
      templateHash: w.pods.list()[0]?.metadata.labels?.['serving.selectn.dev/template-hash'],
      pods: w.pods.list(),
      plan: computePlan(o.spec, 1, undefined, new Date()),
      rollout: 'Complete',
      specError: undefined,
      previous: undefined,
      telemetry: view?.telemetry,
      podTelemetry: view?.pods,
      sloTarget: 0.99,
      now: new Date(),
    });
    expect(status.conditions?.find((c) => c.type === 'SLOMet')).toMatchObject({
      status: 'False',
      reason: 'SLOViolated',
    });
    expect(status.display?.slo).toBe('50.0%');
    expect(status.pods?.find((p) => p.name === name(1))).toMatchObject({ telemetryStale: true });
    expect(status.pods?.find((p) => p.name === name(0))).toMatchObject({
      interval: 4,
      sloAttainment: 0,
      bus: 'node-0/cpu',
    });

    // It answers again: fresh, and the aggregate changes.
    fake(1).answer = { kind: 'snapshot', snapshot: snapshot({ finished: 80, violated: 0 }) };
    await w.loop.round();
    expect(w.loop.view('ns/demo')?.pods.get(name(1))?.stale).toBe(false);
    expect(w.loop.view('ns/demo')?.telemetry?.sloAttainment).toBe(90 / 100);
    expect(w.changes).toEqual(['ns/demo', 'ns/demo']);
  });

  it('ignores telemetry that fails the schema and says so once, in an event', async () => {
    const bad = { ...snapshot(), schemaVersion: 99 };
    fake(0).answer = { kind: 'raw', status: 200, body: JSON.stringify(bad) };
    fake(1).answer = { kind: 'raw', status: 200, body: 'not json' };
    await w.loop.round();
    await w.loop.round();
    const view = w.loop.view('ns/demo');
    expect(view?.pods.get(name(0))).toMatchObject({ stale: true });
    expect(view?.pods.get(name(0))?.staleReason).toMatch(/schemaVersion/);
    expect(view?.pods.get(name(1))?.staleReason).toMatch(/not JSON/);
    expect(view?.telemetry?.sloAttainment).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    const notes = w.events.map((e) => (e as unknown as { reason: string; note: string }).note);
    expect(w.events.map((e) => (e as unknown as { reason: string }).reason)).toEqual([
      'TelemetryInvalid',
      'TelemetryInvalid',
    ]);
    expect(notes.some((n) => n.includes(`pod ${name(0)}`) && n.includes('schemaVersion'))).toBe(
      true,
    );
  });

  it('reads the token again when the Secret changes or a pod refuses it', async () => {
    await w.loop.round();
    expect(w.secretReads).toBe(1);
    // The Secret is rotated: new resourceVersion in the cache, new token in the pods.
    w.token = 'tok-2';
    for (const f of w.fakes) f.token = 'tok-2';
    w.secrets.put({ metadata: { name: 'demo-control', namespace: 'ns', resourceVersion: '2' } });
    await w.loop.round();
    expect(w.secretReads).toBe(2);
    expect([...(w.loop.view('ns/demo')?.pods.values() ?? [])].every((p) => !p.stale)).toBe(true);
    // A pod refuses the token (401): stale this round, token read again next round.
    w.token = 'tok-3';
    for (const f of w.fakes) f.token = 'tok-3';
    await w.loop.round();
    expect(w.loop.view('ns/demo')?.pods.get(name(0))).toMatchObject({ stale: true });
    await w.loop.round();
    expect(w.secretReads).toBe(3);
    expect(w.loop.view('ns/demo')?.pods.get(name(0))).toMatchObject({ stale: false });
  });

  it('reads only ready pods and forgets pods and deployments that are gone', async () => {
    const p = w.pods.get(name(2), 'ns') as Pod;
    w.pods.put(withState(p, { ready: false }));
    await w.loop.round();
    expect(fake(2).reads).toBe(0);
    expect([...(w.loop.view('ns/demo')?.pods.keys() ?? [])]).toEqual([name(0), name(1)]);
    w.pods.remove(name(1), 'ns');
    await w.loop.round();
    expect([...(w.loop.view('ns/demo')?.pods.keys() ?? [])]).toEqual([name(0)]);
  });

  it('runs rounds on its own once started, and stops', async () => {
    w.loop.start();
    await new Promise((r) => setTimeout(r, 200));
    await w.loop.stop();
    const reads = fake(0).reads;
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(fake(0).reads).toBe(reads);
  });
});

describe('re-planning from measurement', () => {
  const slo = { ttftMs: 3000, tpotMs: 150 };
  // A pod that holds 100 GB of host memory now (the ceiling without an in-place resize).
  const measuring = (hostMemoryBytes = 100e9) => {
    const s = snapshot();
    return { ...s, planning: planningInputs('my-finetune'), plan: { ...s.plan, hostMemoryBytes } };
  };
  const reasons = () => w.events.map((e) => (e as unknown as { reason: string }).reason);

  async function withSpec(spec: Partial<SelectNDeploymentSpecInput>): Promise<void> {
    await w.loop.stop();
    await Promise.all(w.fakes.map((f) => f.close()));
    w = await world(spec);
    for (const f of w.fakes) f.answer = { kind: 'snapshot', snapshot: measuring() };
  }

  it("pushes the range re-derived from the pod's measurement, once, as basis measured", async () => {
    await withSpec({ slo });
    await w.loop.round();
    const put = fake(0).puts[0];
    expect(fake(0).puts).toHaveLength(1);
    expect(put?.generation).toBe(1);
    expect(put?.basis).toMatch(/^measured: my-finetune: measured profile/);
    expect(put?.interval.min).not.toBeNull();
    expect(put?.hostMemoryBytes).toBeGreaterThan(0);
    // The plan is now in force: the next rounds push nothing, and the status shows it.
    await w.loop.round();
    await w.loop.round();
    expect(fake(0).puts).toHaveLength(1);
    const figures = w.loop.view('ns/demo')?.pods.get(name(0))?.figures;
    expect(figures).toMatchObject({ planBasis: 'measured', planGeneration: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(reasons().filter((r) => r === 'PlanPushed')).toHaveLength(3);
  });

  it('never plans more host memory than the pod holds without a resize', async () => {
    await withSpec({ slo });
    // 4000 bytes: less than one layer, so nothing can be offloaded.
    for (const f of w.fakes) f.answer = { kind: 'snapshot', snapshot: measuring(4000) };
    await w.loop.round();
    const put = fake(0).puts[0];
    expect(put?.interval).toEqual({ min: null, max: null });
    expect(put?.hostMemoryBytes).toBe(0);
    expect(put?.basis).toMatch(/held at inf .* by the pod's 4000 bytes of host memory/);
  });

  it('leaves the old plan in force on 422, reports it in Degraded, and does not retry', async () => {
    await withSpec({ slo });
    fake(1).planReply = { kind: 'refuse', status: 422, code: 'SN_ERR_PLAN_INFEASIBLE' };
    await w.loop.round();
    await w.loop.round();
    expect(fake(1).puts).toHaveLength(1);
    const view = w.loop.view('ns/demo');
    expect(view?.refusals).toEqual([
      expect.objectContaining({ pod: name(1), status: 422, code: 'SN_ERR_PLAN_INFEASIBLE' }),
    ]);
    expect(view?.pods.get(name(1))?.figures?.planGeneration).toBe(0);
    const o = owner({ replicas: 3, slo });
    const status = computeStatus({
      generation: 1,
      replicas: 3,
      selector: 's',
      templateHash: undefined,
      pods: w.pods.list(),
      plan: computePlan(o.spec, 1, undefined, new Date()),
      rollout: 'Complete',
      specError: undefined,
      previous: undefined,
      telemetry: view?.telemetry,
      podTelemetry: view?.pods,
      planRefusals: view?.refusals,
      sloTarget: 0.99,
      now: new Date(),
    });
    const degraded = status.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'PlanRefused' });
    expect(degraded?.message).toContain(`pod ${name(1)} refused plan generation 1 (422`);
    await new Promise((r) => setTimeout(r, 20));
    expect(reasons().filter((r) => r === 'PlanRefused')).toHaveLength(1);
  });

  it('tries again after a 409 (a newer generation in force)', async () => {
    await withSpec({ slo });
    fake(2).planReply = { kind: 'refuse', status: 409, code: 'SN_ERR_STALE_PLAN' };
    await w.loop.round();
    fake(2).planReply = { kind: 'accept' };
    await w.loop.round();
    expect(fake(2).puts).toHaveLength(2);
    expect(w.loop.view('ns/demo')?.refusals).toEqual([]);
  });

  it('says why no plan can be made, and pushes nothing', async () => {
    await withSpec({ slo: { ttftMs: 1, tpotMs: 1 } });
    await w.loop.round();
    expect(w.fakes.map((f) => f.puts.length)).toEqual([0, 0, 0]);
    expect(w.loop.view('ns/demo')?.refusals[0]).toMatchObject({ status: 0, code: 'Infeasible' });
  });

  it('splits a shared bus max-min fair over demand and pushes the budgets as bus-budget', async () => {
    await withSpec({ slo });
    const GB = 1e9;
    const on = (pciBusId: string, switchId: string, demand: number) => {
      const m = measuring();
      const s = snapshot({ pciBusId, switchId, demand });
      return { ...s, planning: m.planning, plan: m.plan };
    };
    fake(0).answer = { kind: 'snapshot', snapshot: on('0000:3b:00.0', '0000:3a:00.0', 2 * GB) };
    fake(1).answer = { kind: 'snapshot', snapshot: on('0000:3c:00.0', '0000:3a:00.0', 20 * GB) };
    fake(2).answer = { kind: 'snapshot', snapshot: on('0000:5e:00.0', '0000:5d:00.0', 20 * GB) };
    await w.loop.round();
    const [a, b, c] = [fake(0).puts[0], fake(1).puts[0], fake(2).puts[0]];
    // The pods measured 24 GB/s alone: pod 0 asks 2 and gets a bit more than that; pod 1 the rest.
    const ba = a?.bandwidthBudgetBytesPerSecond ?? 0;
    const bb = b?.bandwidthBudgetBytesPerSecond ?? 0;
    console.log({ budgets: [ba, bb], intervals: [a?.interval, b?.interval, c?.interval] });
    expect(ba + bb).toBeCloseTo(24 * GB, -3);
    expect(ba).toBeGreaterThanOrEqual(2 * GB);
    expect(ba).toBeLessThan(4 * GB);
    expect(a?.basis).toMatch(/^bus-budget: bus node-0\/0000:3a:00\.0: 2 pods share 24\.00 GB\/s/);
    // Alone on its switch: not throttled.
    expect(c?.bandwidthBudgetBytesPerSecond).toBeNull();
    expect(c?.basis).toMatch(/^measured: /);
    // The pod with the small budget is planned for less bandwidth: it offloads no more.
    expect(intervalOrder(a?.interval.min ?? 0)).toBeGreaterThanOrEqual(
      intervalOrder(c?.interval.min ?? 0),
    );
    // Budgets in force, same demand: nothing more to push.
    await w.loop.round();
    expect(w.fakes.map((f) => f.puts.length)).toEqual([1, 1, 1]);
    // Demands change a little: inside the hysteresis, nothing pushed.
    fake(0).answer = {
      kind: 'snapshot',
      snapshot: {
        ...on('0000:3b:00.0', '0000:3a:00.0', 2.1 * GB),
        plan: fake(0).puts[0] ?? measuring().plan,
      },
    };
    await w.loop.round();
    expect(fake(0).puts).toHaveLength(1);
  });

  it('leaves fixed and disabled plans alone', async () => {
    await withSpec({ slo, offload: { mode: 'fixed', interval: { min: 4, max: 4 } } });
    await w.loop.round();
    expect(w.fakes.map((f) => f.puts.length)).toEqual([0, 0, 0]);
  });
});
