// How the operator's informers and the operator process recover from refused connections, dropped
// watches and a 410 Gone, against the real API server of the local test cluster. A FaultProxy (a
// TCP proxy; TLS passes through) sits between them and the API server; objects are made with
// kubectl straight to the API server.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LABELS, MANAGED_BY } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { KubeClient } from '../../src/operator/kube/client.ts';
import {
  Informer,
  withoutManagedFields,
  type InformerEvent,
} from '../../src/operator/kube/informer.ts';
import type { KubeObject, Pod } from '../../src/operator/kube/types.ts';
import { loadKubeConfig, Operator, slimPod, slimSecret } from '../../src/operator/manager.ts';
import { realClock } from '../../src/operator/queue.ts';
import {
  CLUSTER_START_TIMEOUT_MS,
  freshNamespace,
  kubectl,
  useCluster,
  waitFor,
  type TestCluster,
  type TestNamespace,
} from '../cluster/harness.ts';
import { FaultProxy } from './fault-proxy.ts';

const TEST_LABEL = 'selectn.dev/informer-test';

let cluster: TestCluster;
let ns: TestNamespace;
let proxy: FaultProxy | undefined;
let kubeconfig: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await useCluster();
  ns = await freshNamespace('informer');
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await ns.cleanup();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await proxy?.close();
  proxy = undefined;
});

/** A proxy in front of the test cluster's API server and a kubeconfig that goes through it. */
async function startProxy(): Promise<FaultProxy> {
  const server = cluster.kc.getCurrentCluster()?.server;
  if (!server) throw new Error('test cluster kubeconfig has no server');
  proxy = new FaultProxy(server);
  kubeconfig = proxy.kubeconfig(cluster.kubeconfig, await proxy.listen());
  return proxy;
}

async function kc(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function configMap(name: string, group: string, data: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns.name, labels: { [TEST_LABEL]: group } },
    data,
  });
}

interface Watched {
  informer: Informer<KubeObject>;
  events: string[];
  restarts: number[];
  lists: () => number;
}

/** An informer over `path` through the proxy; records events, restart times and list calls. */
function watched(path: string, labelSelector?: string, baseBackoffMs = 100): Watched {
  const config = loadKubeConfig(kubeconfig);
  const client = new KubeClient(config);
  const events: string[] = [];
  const restarts: number[] = [];
  let lists = 0;
  const informer = new Informer<KubeObject>(config, {
    resource: 'test',
    path,
    labelSelector,
    list: (trim) => {
      lists++;
      return client.listPaged<KubeObject>(path, { labelSelector }, trim);
    },
    onEvent: (e: InformerEvent, o: KubeObject) => events.push(`${e}:${o.metadata.name ?? ''}`),
    onRestart: () => restarts.push(performance.now()),
    clock: realClock,
    log: silentLogger(),
    baseBackoffMs,
    maxBackoffMs: 2_000,
    transform: withoutManagedFields,
  });
  cleanups.push(() => informer.stop());
  return { informer, events, restarts, lists: () => lists };
}

const names = (objects: readonly KubeObject[]) => objects.map((o) => o.metadata.name).sort();

describe('informer against the real API server', () => {
  it('lists in pages: every object, trimmed as its page lands, with the snapshot resourceVersion', async () => {
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5'])
      await kc(['apply', '-f', '-'], configMap(name, 'paged'));
    const gets: number[] = [];
    const client = new KubeClient(loadKubeConfig(cluster.kubeconfig), (verb, status) => {
      if (verb === 'GET' && status === 200) gets.push(status);
    });
    const list = await client.listPaged<KubeObject>(
      `/api/v1/namespaces/${ns.name}/configmaps`,
      { labelSelector: `${TEST_LABEL}=paged` },
      withoutManagedFields,
      2,
    );
    expect(names(list.items)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(gets).toHaveLength(3);
    expect(list.items.every((o) => !('managedFields' in o.metadata))).toBe(true);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
  });

  it('resumes after its connections are cut: restarts with backoff and sees what changed meanwhile', async () => {
    const p = await startProxy();
    await kc(['apply', '-f', '-'], configMap('a', 'cut'));
    await kc(['apply', '-f', '-'], configMap('gone', 'cut'));
    const w = watched(`/api/v1/namespaces/${ns.name}/configmaps`, `${TEST_LABEL}=cut`);
    await w.informer.start();
    expect(w.informer.synced).toBe(true);
    expect([...w.events].sort()).toEqual(['add:a', 'add:gone']);
    expect(w.lists()).toBe(1);

    // The watch stream is open through the proxy; drop it and keep the API server unreachable.
    p.refuse();
    expect(p.cut()).toBeGreaterThanOrEqual(1);
    await kc(['apply', '-f', '-'], configMap('b', 'cut'));
    await kc(['apply', '-f', '-'], configMap('a', 'cut', { changed: 'yes' }));
    await kc(['delete', 'configmap', 'gone', '-n', ns.name]);
    await waitFor(
      'three restarts while the API server is unreachable',
      () => w.restarts.length >= 3,
    );
    // Capped exponential backoff: restart n+1 comes no sooner than base * 2^(n-1) after restart n.
    const gaps = w.restarts.slice(1, 3).map((t, i) => t - (w.restarts[i] ?? t));
    expect(gaps[0]).toBeGreaterThanOrEqual(100 - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(200 - 5);
    // The first restart is the dropped stream; each later one a refused reconnect.
    expect(p.refused).toBeGreaterThanOrEqual(2);
    expect(w.informer.get('b', ns.name)).toBeUndefined();
    expect(w.informer.synced).toBe(true); // the cache stays complete as of the last list

    p.accept();
    await waitFor(
      'the changes made while disconnected',
      () =>
        w.events.includes('add:b') &&
        w.events.includes('update:a') &&
        w.events.includes('delete:gone'),
      { describe: () => w.events.join(', ') },
    );
    expect(names(w.informer.list(ns.name))).toEqual(['a', 'b']);
    expect(w.informer.get('a', ns.name)).toMatchObject({ data: { changed: 'yes' } });
    expect(w.informer.get('b', ns.name)?.metadata).not.toHaveProperty('managedFields');
    // It resumed the watch from its resourceVersion: no second list.
    expect(w.lists()).toBe(1);
  });

  it('is not synced while the first list fails, and syncs once the API server is reachable', async () => {
    const p = await startProxy();
    await kc(['apply', '-f', '-'], configMap('first', 'sync'));
    const w = watched(`/api/v1/namespaces/${ns.name}/configmaps`, `${TEST_LABEL}=sync`);
    p.refuse();
    await w.informer.start();
    expect(w.informer.synced).toBe(false);
    await waitFor('two restarts of the failing list', () => w.restarts.length >= 2);
    expect(w.informer.synced).toBe(false);
    expect(w.informer.list()).toEqual([]);
    p.accept();
    await waitFor('synced', () => w.informer.synced);
    expect(names(w.informer.list(ns.name))).toEqual(['first']);
    expect(w.events).toEqual(['add:first']);
    expect(p.forwarded).toBeGreaterThanOrEqual(1);
  });

  it('relists after a real 410 Gone (the watch resumes from a resourceVersion the server no longer has)', async () => {
    // A custom resource whose definition is deleted and made again while the informer is cut
    // off: the API server builds a new watch cache for it, starting after the informer's
    // resourceVersion, so the resumed watch is answered "too old resource version" (410).
    const p = await startProxy();
    const suffix = Math.random().toString(36).slice(2, 8);
    const group = `t${suffix}.informer-test.selectn.dev`;
    const crd = JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        ],
      },
    });
    const widget = (name: string) =>
      JSON.stringify({
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name, namespace: ns.name },
      });
    const makeCrd = async () => {
      await kc(['create', '-f', '-'], crd);
      await kc(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=60s']);
      // Established can precede serving by a moment; retry the first create.
      await waitFor('the widget API to serve', async () => {
        const r = await kubectl(['get', `widgets.${group}`, '-n', ns.name]);
        return r.code === 0;
      });
    };
    cleanups.push(async () => {
      await kubectl(['delete', 'crd', `widgets.${group}`, '--ignore-not-found', '--wait=false']);
    });
    await makeCrd();
    await kc(['create', '-f', '-'], widget('old'));

    const w = watched(`/apis/${group}/v1/namespaces/${ns.name}/widgets`);
    await w.informer.start();
    expect(w.informer.synced).toBe(true);
    expect(w.events).toEqual(['add:old']);
    const restartsBefore = w.restarts.length;

    p.refuse();
    p.cut();
    await kc(['delete', 'crd', `widgets.${group}`, '--timeout=60s']);
    await makeCrd();
    await kc(['create', '-f', '-'], widget('new'));
    await waitFor('a restart while cut off', () => w.restarts.length > restartsBefore);
    expect(w.lists()).toBe(1);

    p.accept();
    await waitFor(
      'the relist after 410',
      () => w.events.includes('add:new') && w.events.includes('delete:old'),
      { describe: () => `events: ${w.events.join(', ')}; lists: ${w.lists()}`, timeoutMs: 30_000 },
    );
    // Only a 410 makes client-node's ListWatch drop its resourceVersion and list again.
    expect(w.lists()).toBe(2);
    expect(names(w.informer.list(ns.name))).toEqual(['new']);
  }, 120_000);
});

async function metric(base: string, line: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('operator process against the real API server', () => {
  it('serves /healthz, /readyz once synced, zeroed selectn_operator_* metrics, and counts watch restarts', async () => {
    // The operator's informers need the SelectNDeployment CRD (the helm chart installs it too).
    const created = await kubectl(['create', '-f', '-'], {
      input: readFileSync(
        new URL('../../crds/selectn.dev_selectndeployments.yaml', import.meta.url),
        'utf8',
      ),
    });
    if (created.code !== 0 && !created.stderr.includes('AlreadyExists'))
      throw new Error(`creating the CRD: ${created.stderr}`);
    await kc([
      'wait',
      '--for=condition=Established',
      'crd/selectndeployments.serving.selectn.dev',
      '--timeout=60s',
    ]);

    await waitFor('the SelectNDeployment API to serve', async () => {
      const r = await kubectl(['get', 'selectndeployments', '-n', ns.name]);
      return r.code === 0;
    });

    const p = await startProxy();
    const operator = new Operator({
      kubeconfig,
      namespace: ns.name,
      leaderElect: false,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      localRunner: false,
      workers: 2,
      resyncMs: 60_000,
      planner: undefined,
      log: silentLogger(),
    });
    cleanups.push(() => operator.stop());
    await operator.start();
    const base = `http://127.0.0.1:${operator.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200); // start() returns once synced

    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'selectn_operator_reconciles_total{result="success"} 0',
      'selectn_operator_reconcile_errors_total{kind="conflict"} 0',
      'selectn_operator_queue_depth 0',
      'selectn_operator_watch_restarts_total{resource="pods"} 0',
      'selectn_operator_reconcile_duration_seconds_bucket',
      'selectn_operator_leader 1',
    ]) {
      expect(metrics).toContain(name);
    }
    const restarts = 'selectn_operator_watch_restarts_total{resource="pods"}';
    const before = await metric(base, restarts);
    expect(before).toBe(0);

    // Drop every watch stream and keep the API server away a moment: the counter goes up.
    p.refuse();
    expect(p.cut()).toBeGreaterThanOrEqual(4);
    await waitFor('watch restarts counted', async () => ((await metric(base, restarts)) ?? 0) > 0);
    expect((await fetch(`${base}/readyz`)).status).toBe(200); // caches stay synced
    p.accept();

    // After the restart the watches deliver again: a managed secret made now is seen.
    const added = 'selectn_operator_watch_events_total{resource="secrets",event="add"}';
    expect(await metric(base, added)).toBe(0);
    await kc(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'managed',
          namespace: ns.name,
          labels: { [LABELS.managedBy]: MANAGED_BY },
        },
        stringData: { x: 'y' },
      }),
    );
    await waitFor(
      'the secret add event after the restart',
      async () => (await metric(base, added)) === 1,
      {
        timeoutMs: 30_000,
      },
    );
    cleanups.pop();
    await operator.stop();
    expect(operator.exitCode).toBe(0);
  }, 90_000);
});

describe('cache trimming', () => {
  it('keeps what reconcile reads of a pod and nothing of a secret but its metadata', () => {
    const full = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', managedFields: [{}], labels: { a: 'b' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', env: [{ name: 'X', value: 'y' }] }] },
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        conditions: [{ type: 'Ready', status: 'True' }],
        qosClass: 'Guaranteed',
      },
    } as Pod;
    expect(slimPod(full)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', labels: { a: 'b' } },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    // The serving container's resources stay: the in-place memory resize reads them.
    const resources = { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } };
    expect(
      slimPod({
        ...full,
        spec: { nodeName: 'n1', containers: [{ name: 'serve', image: 'i', resources }] },
      }).spec,
    ).toEqual({ nodeName: 'n1', containers: [{ name: 'serve', resources }] });
    expect(
      slimSecret({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { token: 'eA==' },
      }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
    });
  });
});
