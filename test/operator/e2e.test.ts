// End-to-end: the chart installed with the real helm into the real local cluster; the operator
// runs as two leader-electing replicas (local processes via the pod runner) and manages
// SelectNDeployments whose pods are real local processes too.
//
// The first deployment's pods run real `selectn serve` processes on the tiny Llama fixture: they must
// become Ready and answer a chat completion.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOperatorBundle } from '../../src/build/operator-bundle.ts';
import { binaryPaths } from '../../src/cluster/build.ts';
import {
  CLUSTER_START_TIMEOUT_MS,
  NODE,
  freshNamespace,
  kubectl,
  useCluster,
  waitFor,
  type TestCluster,
  type TestNamespace,
} from '../cluster/harness.ts';

const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

interface Json {
  [key: string]: unknown;
}

async function kjson(args: string[]): Promise<Json> {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

async function ownedPods(ns: string, name: string): Promise<Json[]> {
  const list = await kjson([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `serving.selectn.dev/deployment=${name}`,
  ]);
  return (list['items'] as Json[]).filter(
    (p) => (p['metadata'] as Json)['deletionTimestamp'] === undefined,
  );
}

function podName(p: Json): string {
  return String((p['metadata'] as Json)['name']);
}

async function condition(ns: string, name: string, type: string): Promise<Json | undefined> {
  const dep = await kjson(['get', 'sndep', name, '-n', ns]);
  const conditions = ((dep['status'] as Json | undefined)?.['conditions'] ?? []) as Json[];
  return conditions.find((c) => c['type'] === type);
}

function sndep(name: string, ns: string, spec: Json): string {
  return JSON.stringify({
    apiVersion: 'serving.selectn.dev/v1alpha1',
    kind: 'SelectNDeployment',
    metadata: { name, namespace: ns },
    spec: {
      model: {
        name: 'tiny-llama',
        source: { hostPath: { path: `${root}/test/fixtures/tiny-llama` } },
      },
      slo: { ttftMs: 2000, tpotMs: 200 },
      resources: { gpu: { count: 1 }, cpu: '500m', memory: '1Gi' },
      server: { device: 'cpu', deviceMemory: '256Mi', maxBatchSize: 4 },
      ...spec,
    },
  });
}

async function apply(text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(['apply', '-f', '-'], { input: text });
}

describe('operator end to end', () => {
  let cluster: TestCluster;
  let system: TestNamespace;
  let operatorBundle: string;
  let ns: TestNamespace;
  const release = `sn${Date.now().toString(36)}`;
  const helm = (args: string[]) =>
    spawnSync(binaryPaths().helm, [...args, '--kubeconfig', cluster.kubeconfig], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        HELM_CACHE_HOME: '/tmp/selectn-helm/cache',
        HELM_CONFIG_HOME: '/tmp/selectn-helm/config',
        HELM_DATA_HOME: '/tmp/selectn-helm/data',
      },
    });

  beforeAll(async () => {
    cluster = await useCluster();
    // The chart runs the bundled operator; built here so that it is never stale.
    operatorBundle = await buildOperatorBundle();
    system = await freshNamespace('selectn-system');
    ns = await freshNamespace('operator');
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await ns.cleanup();
    helm(['uninstall', release, '-n', system.name]);
    await system.cleanup();
  });

  it('installs with helm: two operator replicas, one leader', async () => {
    const r = helm([
      'install',
      release,
      `${root}/charts/selectn-operator`,
      '-n',
      system.name,
      '--set',
      'operator.localRunner=true',
      '--set-string',
      'podLabels.selectn\\.dev/local-runner=true',
      '--set',
      'operator.logLevel=debug',
      '--set-json',
      `operator.command=${JSON.stringify([NODE, operatorBundle, 'operator'])}`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    await waitFor(
      '2 operator pods ready',
      async () => {
        const list = await kjson([
          'get',
          'pods',
          '-n',
          system.name,
          '-l',
          'app.kubernetes.io/name=selectn-operator',
        ]);
        const ready = (list['items'] as Json[]).filter((p) =>
          ((p['status'] as Json)['conditions'] as Json[] | undefined)?.some(
            (c) => c['type'] === 'Ready' && c['status'] === 'True',
          ),
        );
        return ready.length === 2;
      },
      { timeoutMs: 90_000 },
    );
    await waitFor(
      'a lease holder',
      async () => {
        const lease = await kjson(['get', 'lease', 'selectn-operator', '-n', system.name]);
        return Boolean((lease['spec'] as Json)['holderIdentity']);
      },
      { timeoutMs: 30_000 },
    );
  }, 180_000);

  it('refuses invalid resources in the API server, naming the field', async () => {
    const inverted = await apply(
      sndep('bad', ns.name, { offload: { interval: { min: 8, max: 2 } } }),
    );
    expect(inverted.code).not.toBe(0);
    expect(inverted.stderr).toContain('spec.offload.interval');
    expect(inverted.stderr).toContain('interval.min must be <= interval.max');
    const negative = await apply(sndep('bad', ns.name, { replicas: -1 }));
    expect(negative.stderr).toMatch(/spec\.replicas/);
    const slo = await apply(sndep('bad', ns.name, { slo: { ttftMs: 0, tpotMs: 10 } }));
    expect(slo.stderr).toMatch(/spec\.slo\.ttftMs/);
    const scaling = await apply(
      sndep('bad', ns.name, { autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
    );
    expect(scaling.stderr).toContain('minReplicas <= maxReplicas');
  });

  it('creates pods, a Service and a Secret, reports status, and scales', async () => {
    const r = await apply(sndep('tiny', ns.name, { replicas: 2 }));
    expect(r.code, r.stderr).toBe(0);
    await waitFor('2 pods', async () => (await ownedPods(ns.name, 'tiny')).length === 2, {
      timeoutMs: 60_000,
    });
    const pods = await ownedPods(ns.name, 'tiny');
    expect(((pods[0]?.['metadata'] as Json)['labels'] as Json)['selectn.dev/local-runner']).toBe(
      'true',
    );
    await kjson(['get', 'service', 'tiny', '-n', ns.name]);
    await kjson(['get', 'secret', 'tiny-control', '-n', ns.name]);
    await waitFor(
      'status with plan and selector',
      async () => {
        const dep = await kjson(['get', 'sndep', 'tiny', '-n', ns.name]);
        const status = dep['status'] as Json | undefined;
        return (
          status?.['selector'] !== undefined &&
          status['plan'] !== undefined &&
          status['observedGeneration'] === 1
        );
      },
      { timeoutMs: 30_000 },
    );
    const table = await kubectl(['get', 'sndep', '-n', ns.name]);
    expect(table.stdout).toMatch(/NAME\s+READY\s+INTERVAL\s+SLO\s+AGE/);
    const outcome = await waitFor(
      'Ready, or Degraded because the serving process fails',
      async () => {
        if ((await condition(ns.name, 'tiny', 'Ready'))?.['status'] === 'True') return 'ready';
        const degraded = await condition(ns.name, 'tiny', 'Degraded');
        return degraded?.['reason'] === 'CrashLooping' ? 'crashloop' : undefined;
      },
      { timeoutMs: 240_000 },
    );
    // The serving pods must become Ready: a crash loop is a failure (it once hid a runner bug).
    expect(outcome, 'serving pods crash-loop: see the pod logs kept for this run').toBe('ready');
    const scaled = await kubectl(['scale', 'sndep/tiny', '-n', ns.name, '--replicas=1']);
    expect(scaled.code, scaled.stderr).toBe(0);
    await waitFor(
      '1 pod after scale',
      async () => (await ownedPods(ns.name, 'tiny')).length === 1,
      { timeoutMs: 60_000 },
    );
  }, 300_000);

  it('answers a chat completion through a pod', async () => {
    const pods = await ownedPods(ns.name, 'tiny');
    const ip = String((pods[0]?.['status'] as Json)['podIP']);
    const res = await fetch(`http://${ip}:8000/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny-llama',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 4,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
  }, 60_000);

  it('closes the telemetry loop: SLOMet from measurement, the pod re-planned as measured', async () => {
    const pods = await ownedPods(ns.name, 'tiny');
    const ip = String((pods[0]?.['status'] as Json)['podIP']);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://${ip}:8000/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tiny-llama',
          messages: [{ role: 'user', content: `count to ${i}` }],
          max_tokens: 8,
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    let status: Json = {};
    await waitFor(
      'status with telemetry, SLOMet known and the pod on a measured plan',
      async () => {
        status = (await kjson(['get', 'sndep', 'tiny', '-n', ns.name]))['status'] as Json;
        const summaries = (status['pods'] ?? []) as Json[];
        const slo = ((status['conditions'] ?? []) as Json[]).find((c) => c['type'] === 'SLOMet');
        return (
          (status['telemetry'] as Json | undefined)?.['sloAttainment'] !== undefined &&
          (status['telemetry'] as Json)['sloAttainment'] !== null &&
          slo?.['status'] !== 'Unknown' &&
          summaries.some((p) => p['planBasis'] === 'measured' && Number(p['planGeneration']) >= 1)
        );
      },
      { timeoutMs: 90_000 },
    );
    // Printed so that a run shows the loop's figures.
    console.log(JSON.stringify({ telemetry: status['telemetry'], pods: status['pods'] }, null, 1));
    const slo = ((status['conditions'] ?? []) as Json[]).find((c) => c['type'] === 'SLOMet');
    expect(slo?.['status']).toBe('True');
    expect((status['display'] as Json)['slo']).not.toBe('-');
    const pod = ((status['pods'] ?? []) as Json[]).find((p) => p['planBasis'] === 'measured');
    expect(pod?.['bus']).toMatch(/\/cpu$/);
    const table = await kubectl(['get', 'sndep', 'tiny', '-n', ns.name]);
    expect(table.stdout).toMatch(/tiny\s+1\/1\s+\S+\s+[0-9.]+%/);

    // The fallback start plan gave the pod no host memory; the measured plan holds the whole model
    // in the host pool, so the operator grew the pod's memory in place (pods/resize) before it
    // pushed the plan: same pod (created before the resize), the runner reporting it applied.
    const events = (await kjson(['get', 'events', '-n', ns.name]))['items'] as Json[];
    const resized = events.filter((e) => e['reason'] === 'PodResized');
    expect(resized.length, 'a PodResized event').toBeGreaterThan(0);
    const note = (resized[0]?.['message'] ?? resized[0]?.['note'] ?? '') as string;
    expect(note).toMatch(/memory 1342177280 -> \d+ bytes \(grow\)/);
    const live = (await ownedPods(ns.name, 'tiny'))[0] ?? {};
    expect(note).toContain(`pod ${podName(live)}:`);
    const meta = live['metadata'] as Json;
    const at = (resized[0]?.['eventTime'] ?? resized[0]?.['firstTimestamp'] ?? '') as string;
    expect(Date.parse(String(meta['creationTimestamp']))).toBeLessThanOrEqual(Date.parse(at));
    expect(Number(meta['generation'])).toBeGreaterThan(1);
    const container = ((live['spec'] as Json)['containers'] as Json[])[0] as Json;
    const asked = ((container['resources'] as Json)['limits'] as Json)['memory'];
    expect(Number(asked)).toBeGreaterThan(1342177280);
    const cs = ((live['status'] as Json)['containerStatuses'] as Json[])[0] as Json;
    expect(((cs['resources'] as Json)['limits'] as Json)['memory']).toBe(asked);
    expect(cs['restartCount']).toBe(0);
  }, 150_000);

  it('autoscales: a bounded load raises replicas, idle lowers them after the delay', async () => {
    const r = await apply(
      sndep('auto', ns.name, {
        replicas: 1,
        server: { device: 'cpu', deviceMemory: '256Mi', maxBatchSize: 2 },
        autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 2, scaleDownDelaySeconds: 5 },
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      'auto Ready',
      async () => (await condition(ns.name, 'auto', 'Ready'))?.['status'] === 'True',
      {
        timeoutMs: 120_000,
      },
    );
    const ip = String(((await ownedPods(ns.name, 'auto'))[0]?.['status'] as Json)['podIP']);
    const replicas = async () =>
      Number(((await kjson(['get', 'sndep', 'auto', '-n', ns.name]))['spec'] as Json)['replicas']);
    // Bounded generator: 8 requests in flight (4 per batch slot) until stopped, at most 90 s.
    const started = Date.now();
    let stop = false;
    const outcomes = { ok: 0, failed: 0 };
    const worker = async () => {
      while (!stop && Date.now() - started < 90_000) {
        try {
          const res = await fetch(`http://${ip}:8000/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'tiny-llama',
              messages: [{ role: 'user', content: 'tell a long story' }],
              max_tokens: 64,
            }),
            signal: AbortSignal.timeout(30_000),
          });
          await res.text();
          if (res.status === 200) outcomes.ok++;
          else outcomes.failed++;
        } catch {
          outcomes.failed++;
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await waitFor('scaled up to 2', async () => (await replicas()) === 2, { timeoutMs: 80_000 });
    const upAfterS = (Date.now() - started) / 1000;
    stop = true;
    await load;
    const idleFrom = Date.now();
    await waitFor('scaled back to 1', async () => (await replicas()) === 1, { timeoutMs: 150_000 });
    const downAfterS = (Date.now() - idleFrom) / 1000;
    const status = (await kjson(['get', 'sndep', 'auto', '-n', ns.name]))['status'] as Json;
    console.log(JSON.stringify({ upAfterS, downAfterS, requests: outcomes }));
    expect(status['desiredReplicas']).toBe(1);
    // Every request of the generator ended: completed, or failed with an answer.
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.failed).toBe(0);
  }, 330_000);

  it('rolls the pods when the SLO changes', async () => {
    const before = new Set((await ownedPods(ns.name, 'tiny')).map(podName));
    const r = await kubectl([
      'patch',
      'sndep/tiny',
      '-n',
      ns.name,
      '--type=merge',
      '-p',
      '{"spec":{"slo":{"ttftMs":1500}}}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      'pods replaced',
      async () => {
        const now = (await ownedPods(ns.name, 'tiny')).map(podName);
        return now.length === 1 && now.every((n) => !before.has(n));
      },
      { timeoutMs: 180_000 },
    );
  }, 240_000);

  it('reports an unschedulable request as Degraded/Unschedulable', async () => {
    const r = await apply(
      sndep('huge', ns.name, {
        replicas: 1,
        resources: { gpu: { count: 8 }, cpu: '1', memory: '1Gi' },
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      'Degraded Unschedulable',
      async () => (await condition(ns.name, 'huge', 'Degraded'))?.['reason'] === 'Unschedulable',
      { timeoutMs: 60_000 },
    );
    expect(String((await condition(ns.name, 'huge', 'Degraded'))?.['message'])).toContain(
      'nvidia.com/gpu',
    );
  }, 90_000);

  it('hands over leadership within 20 s and creates no duplicate pods', async () => {
    const lease = await kjson(['get', 'lease', 'selectn-operator', '-n', system.name]);
    const holder = String((lease['spec'] as Json)['holderIdentity']);
    const leaderPod = holder.split('_')[0] ?? '';
    const start = Date.now();
    const del = await kubectl(['delete', 'pod', leaderPod, '-n', system.name, '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    const r = await apply(sndep('three', ns.name, { replicas: 3 }));
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      'a new leader',
      async () => {
        const l = await kjson(['get', 'lease', 'selectn-operator', '-n', system.name]);
        const h = (l['spec'] as Json)['holderIdentity'];
        return typeof h === 'string' && h !== '' && h !== holder;
      },
      { timeoutMs: 20_000 },
    );
    expect(Date.now() - start).toBeLessThan(20_000);
    await waitFor('3 pods', async () => (await ownedPods(ns.name, 'three')).length === 3, {
      timeoutMs: 60_000,
    });
    await new Promise((r2) => setTimeout(r2, 5000));
    const names = (await ownedPods(ns.name, 'three')).map(podName);
    expect(names).toHaveLength(3);
    expect(new Set(names.map((n) => n.replace(/-[0-9]+$/, ''))).size).toBe(1);
  }, 120_000);

  it('removes everything it owned when the resource is deleted', async () => {
    const r = await kubectl(['delete', 'sndep', 'three', '-n', ns.name]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      'owned objects gone',
      async () => {
        const pods = await ownedPods(ns.name, 'three');
        const svc = await kubectl(['get', 'service', 'three', '-n', ns.name]);
        const secret = await kubectl(['get', 'secret', 'three-control', '-n', ns.name]);
        return pods.length === 0 && svc.code !== 0 && secret.code !== 0;
      },
      { timeoutMs: 60_000 },
    );
  }, 90_000);
});
