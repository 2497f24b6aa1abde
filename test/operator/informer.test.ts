import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { KubeClient, paths } from '../../src/operator/kube/client.ts';
import {
  Informer,
  withoutManagedFields,
  type InformerEvent,
} from '../../src/operator/kube/informer.ts';
import { loadKubeConfig, Operator, slimPod, slimSecret } from '../../src/operator/manager.ts';
import { realClock } from '../../src/operator/queue.ts';
import type { Pod } from '../../src/operator/kube/types.ts';
import { FakeApiServer } from './fake-apiserver.ts';

const pod = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', resourceVersion: '1' },
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('informer', () => {
  it('lists, then recovers from a failed watch by restarting with backoff and relisting on 410', async () => {
    fake = new FakeApiServer();
    const path = paths.pods('ns');
    fake.lists.set(path, [pod('a')]);
    fake.watchPlan.set(path, ['fail', 'gone', 'hold']);
    const port = await fake.listen();
    const kc = loadKubeConfig(fake.kubeconfig(port));
    const client = new KubeClient(kc);
    const events: string[] = [];
    let restarts = 0;
    const informer = new Informer<Pod>(kc, {
      resource: 'pods',
      path,
      list: () => client.list<Pod>(path),
      onEvent: (e: InformerEvent, p: Pod) => events.push(`${e}:${p.metadata.name ?? ''}`),
      onRestart: () => restarts++,
      clock: realClock,
      log: silentLogger(),
      baseBackoffMs: 10,
      transform: withoutManagedFields,
    });
    await informer.start();
    expect(informer.synced).toBe(true);
    expect(events).toEqual(['add:a']);
    await until(
      'a restart and a held watch',
      () => restarts >= 1 && fake?.requests.filter((r) => r.endsWith('?watch')).length === 3,
    );
    fake.lists.set(path, [pod('a'), pod('b')]);
    const withFields = {
      ...pod('c'),
      metadata: { ...pod('c').metadata, managedFields: [{ manager: 'x' }] },
    };
    fake.push(path, 'ADDED', withFields);
    await until('event from the new watch', () => events.includes('add:c'));
    expect(informer.get('c', 'ns')?.metadata).not.toHaveProperty('managedFields');
    expect(
      informer
        .list('ns')
        .map((p) => p.metadata.name)
        .sort(),
    ).toContain('c');
    expect(fake.requests.filter((r) => r === `GET ${path}`).length).toBeGreaterThanOrEqual(2); // relisted after 410
    await informer.stop();
  });

  it('is not synced while the first list fails, and syncs after a restart', async () => {
    fake = new FakeApiServer();
    const path = paths.pods('ns');
    const port = await fake.listen();
    const kc = loadKubeConfig(fake.kubeconfig(port));
    const client = new KubeClient(kc);
    let restarts = 0;
    const informer = new Informer<Pod>(kc, {
      resource: 'pods',
      path,
      list: () => client.list<Pod>(path),
      onEvent: () => undefined,
      onRestart: () => restarts++,
      clock: realClock,
      log: silentLogger(),
      baseBackoffMs: 10,
    });
    await informer.start(); // 404: list fails
    expect(informer.synced).toBe(false);
    fake.lists.set(path, []);
    await until('synced after restart', () => informer.synced);
    expect(restarts).toBeGreaterThanOrEqual(1);
    await informer.stop();
  });
});

describe('operator process', () => {
  it('serves /healthz, /readyz once synced, and zeroed selectn_operator_* metrics', async () => {
    fake = new FakeApiServer();
    for (const p of [paths.deployments(), paths.pods(), paths.services(), paths.secrets()])
      fake.lists.set(p, []);
    const port = await fake.listen();
    const operator = new Operator({
      kubeconfig: fake.kubeconfig(port),
      leaderElect: false,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      localRunner: false,
      workers: 2,
      resyncMs: 60_000,
      planner: undefined,
      log: silentLogger(),
    });
    await operator.start();
    const base = `http://127.0.0.1:${operator.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
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
    await operator.stop();
    expect(operator.exitCode).toBe(0);
  });
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
