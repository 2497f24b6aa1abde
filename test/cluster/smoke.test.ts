// Smoke test of the real local control plane: fake GPU nodes, GPU-aware scheduling, the local pod
// runner (HTTP on the pod IP, restarts, deletion), garbage collection, RBAC and the CLI.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  CLUSTER_START_TIMEOUT_MS,
  freshNamespace,
  isRunningAndReady,
  kubectl,
  podLogs,
  podProcessPid,
  processAlive,
  runnerPod,
  testClusterName,
  TEST_NODE_SHAPE,
  useCluster,
  waitFor,
  waitForPod,
  waitForPodGone,
  type TestCluster,
  type TestNamespace,
} from './harness.ts';
import { quantityToBytes } from '../../src/api/index.ts';
import { runCli } from '../cli/run-cli.ts';

function httpGet(
  host: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function kwokPod(name: string, namespace: string, gpus: number): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'fake/serving:1',
          resources: { limits: { 'nvidia.com/gpu': String(gpus) } },
        },
      ],
    },
  };
}

let cluster: TestCluster;
let ns: TestNamespace;

beforeAll(async () => {
  cluster = await useCluster();
  ns = await freshNamespace('smoke');
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await ns.cleanup();
});

describe('local cluster', () => {
  it('lists the fake GPU nodes with GPU capacity, labels and PCIe topology', async () => {
    const nodes = await cluster.core.listNode({
      labelSelector: `selectn.dev/local-cluster=${testClusterName()}`,
    });
    expect(nodes.items).toHaveLength(TEST_NODE_SHAPE.count);
    for (const node of nodes.items) {
      expect(node.status?.capacity?.['nvidia.com/gpu']).toBe('4');
      expect(node.status?.allocatable?.['nvidia.com/gpu']).toBe('4');
      expect(node.metadata?.labels?.['nvidia.com/gpu.product']).toBe('NVIDIA-A10G');
      expect(node.metadata?.labels?.['nvidia.com/gpu.memory']).toBe('23028');
      const topology = JSON.parse(
        node.metadata?.annotations?.['selectn.dev/pcie-topology'] ?? '{}',
      ) as unknown;
      expect(topology).toEqual({ '0': 'pcie-0', '1': 'pcie-0', '2': 'pcie-1', '3': 'pcie-1' });
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    const out = await kubectl(['get', 'nodes', '-o', 'name']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n').sort()).toEqual([
      'node/gpu-node-0',
      'node/gpu-node-1',
      'node/gpu-node-2',
    ]);
  });

  it('schedules a GPU pod onto a node with capacity and leaves one that fits nowhere Pending', async () => {
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: kwokPod('fits', ns.name, 4),
    });
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: kwokPod('too-big', ns.name, 5),
    });
    const fits = await waitForPod(
      cluster,
      ns.name,
      'fits',
      'Running on a GPU node',
      isRunningAndReady,
    );
    expect(fits.spec?.nodeName).toMatch(/^gpu-node-[0-2]$/);
    const pending = await waitForPod(cluster, ns.name, 'too-big', 'reported Unschedulable', (p) =>
      (p.status?.conditions ?? []).some(
        (c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
      ),
    );
    expect(pending.spec?.nodeName).toBeUndefined();
    expect(pending.status?.phase).toBe('Pending');
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toContain(
      'nvidia.com/gpu',
    );
  });

  it('gives fake pods routable-looking IPs, so that a Service selecting them gets endpoints', async () => {
    const pod = kwokPod('endpoint', ns.name, 1);
    pod.metadata = { ...pod.metadata, labels: { app: 'endpoint-test' } };
    await cluster.core.createNamespacedPod({ namespace: ns.name, body: pod });
    await cluster.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'endpoint-test', namespace: ns.name },
        spec: { selector: { app: 'endpoint-test' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const running = await waitForPod(cluster, ns.name, 'endpoint', 'Running', isRunningAndReady);
    const ip = running.status?.podIP ?? '';
    // 198.18.0.0/15 (RFC 2544): endpoint validation refuses loopback addresses.
    expect(ip).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    const discovery = cluster.kc.makeApiClient(DiscoveryV1Api);
    await waitFor('an EndpointSlice with the pod address', async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns.name,
        labelSelector: 'kubernetes.io/service-name=endpoint-test',
      });
      return slices.items.some((slice) =>
        (slice.endpoints ?? []).some((e) => e.addresses.includes(ip) && e.conditions?.ready),
      );
    });
  });

  it('runs a runner pod as a local process serving HTTP on its pod IP, and stops it on delete', async () => {
    const created = await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: runnerPod({ name: 'web', namespace: ns.name, gpus: 1 }),
    });
    const pod = await waitForPod(cluster, ns.name, 'web', 'Running and Ready', isRunningAndReady);
    const ip = pod.status?.podIP ?? '';
    expect(ip).toMatch(/^127\.(1[0-9][0-9])\.[0-9]+\.[0-9]+$/);
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    const response = await httpGet(ip, 8080, '/hello');
    expect(response).toEqual({ status: 200, body: 'ok web /hello' });
    const pid = podProcessPid(cluster, created);
    expect(pid).toBeDefined();
    expect(processAlive(pid ?? -1)).toBe(true);

    await cluster.core.deleteNamespacedPod({ name: 'web', namespace: ns.name });
    await waitForPodGone(cluster, ns.name, 'web');
    await waitFor(`pod process ${pid ?? -1} to exit`, () => !processAlive(pid ?? -1));
    expect(podLogs(cluster, created)).toContain('SIGTERM');
    await expect(httpGet(ip, 8080, '/')).rejects.toThrow();
  });

  it('restarts a crashing runner pod with back-off and fails one with restartPolicy Never', async () => {
    const crash = 'console.log("crashing"); process.exit(3);';
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: runnerPod({ name: 'crash-always', namespace: ns.name, script: crash }),
    });
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: runnerPod({
        name: 'crash-never',
        namespace: ns.name,
        script: crash,
        restartPolicy: 'Never',
      }),
    });
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: runnerPod({
        name: 'done',
        namespace: ns.name,
        script: 'console.log("done")',
        restartPolicy: 'OnFailure',
      }),
    });
    const always = await waitForPod(
      cluster,
      ns.name,
      'crash-always',
      'restarted twice',
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2,
    );
    expect(always.status?.phase).toBe('Running');
    const last = always.status?.containerStatuses?.[0]?.lastState?.terminated;
    expect(last?.exitCode).toBe(3);
    await waitForPod(
      cluster,
      ns.name,
      'crash-always',
      'in CrashLoopBackOff',
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const never = await waitForPod(
      cluster,
      ns.name,
      'crash-never',
      'Failed',
      (p) => p.status?.phase === 'Failed',
    );
    expect(never.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(never.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    await waitForPod(cluster, ns.name, 'done', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
  });

  it('gives runner pods env from secrets and config maps, and secret volumes under SELECTN_MOUNT_ROOT', async () => {
    await cluster.core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: { name: 'creds' },
        stringData: { token: 's3cret', 'config.json': '{"a":1}' },
      },
    });
    await cluster.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'cfg' }, data: { mode: 'fast' } },
    });
    const script = `
const fs = require('node:fs');
const http = require('node:http');
const file = process.env.SELECTN_MOUNT_ROOT + '/etc/creds/config.json';
http.createServer((req, res) => res.end(JSON.stringify({
  token: process.env.TOKEN, mode: process.env.MODE, ns: process.env.NS, file: fs.readFileSync(file, 'utf8'),
  expanded: process.env.EXPANDED,
}))).listen(8080, process.env.POD_IP);`;
    const body = runnerPod({ name: 'env', namespace: ns.name, script });
    const main = body.spec?.containers[0];
    if (!main) throw new Error('fixture has no container');
    main.env = [
      ...(main.env ?? []),
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'EXPANDED', value: 'mode=$(MODE)' },
    ];
    main.readinessProbe = { tcpSocket: { port: 8080 }, periodSeconds: 1 };
    main.volumeMounts = [{ name: 'creds', mountPath: '/etc/creds', readOnly: true }];
    body.spec = {
      ...body.spec,
      containers: [main],
      volumes: [{ name: 'creds', secret: { secretName: 'creds' } }],
    };
    await cluster.core.createNamespacedPod({ namespace: ns.name, body });
    const pod = await waitForPod(cluster, ns.name, 'env', 'Running and Ready', isRunningAndReady);
    const response = await httpGet(pod.status?.podIP ?? '', 8080, '/');
    expect(JSON.parse(response.body)).toEqual({
      token: 's3cret',
      mode: 'fast',
      ns: ns.name,
      file: '{"a":1}',
      expanded: 'mode=fast',
    });
  });

  it('applies an in-place resize of a runner pod (resize subresource) to its status', async () => {
    const body = runnerPod({ name: 'resize', namespace: ns.name, gpus: 1 });
    const main = body.spec?.containers[0];
    if (!main) throw new Error('fixture has no container');
    const resources = (cpu: string) => ({
      requests: { cpu, memory: '1Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu, memory: '1Gi', 'nvidia.com/gpu': '1' },
    });
    main.resources = resources('1');
    await cluster.core.createNamespacedPod({ namespace: ns.name, body });
    await waitForPod(cluster, ns.name, 'resize', 'Running and Ready', isRunningAndReady);
    await cluster.core.patchNamespacedPodResize(
      {
        name: 'resize',
        namespace: ns.name,
        body: { spec: { containers: [{ name: 'main', resources: resources('2') }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const resized = await waitForPod(
      cluster,
      ns.name,
      'resize',
      'resized to 2 CPUs in status',
      (p) => p.status?.containerStatuses?.[0]?.resources?.limits?.['cpu'] === '2',
    );
    expect(resized.metadata?.generation).toBe(2);
    expect(resized.status?.observedGeneration).toBe(2);
    expect(resized.status?.containerStatuses?.[0]?.restartCount).toBe(0);

    // More memory than the node has beside its other pods (the API server itself refuses more
    // than the node's allocatable): the runner, as a kubelet, reports it Infeasible and keeps the
    // old resources applied; a resize that fits then applies and clears the condition.
    const memory = (m: string) => ({
      requests: { cpu: '2', memory: m, 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: m, 'nvidia.com/gpu': '1' },
    });
    const resize = (m: string) =>
      cluster.core.patchNamespacedPodResize(
        {
          name: 'resize',
          namespace: ns.name,
          body: { spec: { containers: [{ name: 'main', resources: memory(m) }] } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    const nodeName = resized.spec?.nodeName ?? '';
    const node = await cluster.core.readNode({ name: nodeName });
    const allocatable = node.status?.allocatable?.['memory'] ?? '';
    const neighbour = kwokPod('resize-neighbour', ns.name, 0);
    const big = { requests: { memory: '8Gi' }, limits: { memory: '8Gi' } };
    const first = neighbour.spec?.containers[0];
    if (!first || !neighbour.spec) throw new Error('fixture has no container');
    first.resources = big;
    neighbour.spec.nodeName = nodeName;
    await cluster.core.createNamespacedPod({ namespace: ns.name, body: neighbour });
    // All of the node's memory less 4Gi: fits the node alone, not beside the 8Gi neighbour.
    const gib = Math.floor(quantityToBytes(allocatable) / 2 ** 30);
    await resize(`${gib - 4}Gi`);
    const pendingCondition = (p: V1Pod) =>
      p.status?.conditions?.find((c) => c.type === 'PodResizePending' && c.status === 'True');
    const refused = await waitForPod(
      cluster,
      ns.name,
      'resize',
      'PodResizePending Infeasible',
      (p) => pendingCondition(p)?.reason === 'Infeasible',
    );
    expect(pendingCondition(refused)?.message).toMatch(
      /^Node didn't have enough capacity: memory, requested: \d+, capacity: \d+$/,
    );
    expect(refused.status?.containerStatuses?.[0]?.resources?.limits?.['memory']).toBe('1Gi');
    await resize('2Gi');
    const applied = await waitForPod(
      cluster,
      ns.name,
      'resize',
      'resized to 2Gi with no pending condition',
      (p) =>
        p.status?.containerStatuses?.[0]?.resources?.limits?.['memory'] === '2Gi' &&
        pendingCondition(p) === undefined,
    );
    expect(applied.status?.observedGeneration).toBe(applied.metadata?.generation);
    expect(applied.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(applied.metadata?.uid).toBe(resized.metadata?.uid);
  });

  it('garbage-collects objects whose owner was deleted', async () => {
    const owner = await cluster.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'owner' }, data: { a: '1' } },
    });
    await cluster.core.createNamespacedConfigMap({
      namespace: ns.name,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' },
          ],
        },
        data: { b: '2' },
      },
    });
    await cluster.core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns.name });
    await waitFor(
      'the garbage collector to delete configmap "owned"',
      async () => {
        try {
          await cluster.core.readNamespacedConfigMap({ name: 'owned', namespace: ns.name });
          return false;
        } catch (error) {
          return String(error).includes('404');
        }
      },
      { timeoutMs: 30_000 },
    );
  });

  it('enforces RBAC: a service account without rights is refused, and allowed once bound', async () => {
    await cluster.core.createNamespacedServiceAccount({
      namespace: ns.name,
      body: { metadata: { name: 'nobody' } },
    });
    const tokenRequest = await cluster.core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace: ns.name,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token ?? '';
    expect(token).not.toBe('');
    const kc = new KubeConfig();
    const current = cluster.kc.getCurrentCluster();
    if (!current) throw new Error('admin kubeconfig has no cluster');
    kc.loadFromOptions({
      clusters: [current],
      users: [{ name: 'nobody', token }],
      contexts: [{ name: 'nobody', cluster: current.name, user: 'nobody' }],
      currentContext: 'nobody',
    });
    const asNobody = kc.makeApiClient(CoreV1Api);
    await expect(asNobody.listNamespacedPod({ namespace: ns.name })).rejects.toThrow(
      /403|forbidden/i,
    );
    await expect(asNobody.listNamespacedSecret({ namespace: ns.name })).rejects.toThrow(
      /403|forbidden/i,
    );

    await cluster.rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await cluster.rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'nobody-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: ns.name }],
      },
    });
    await waitFor('the role binding to take effect', async () => {
      try {
        return (await asNobody.listNamespacedPod({ namespace: ns.name })).items.length >= 0;
      } catch {
        return false;
      }
    });
    await expect(asNobody.listNamespacedSecret({ namespace: ns.name })).rejects.toThrow(
      /403|forbidden/i,
    );
  });

  it('answers selectn cluster status and selectn kubectl for the test cluster', () => {
    const status = runCli(['cluster', 'status', '--name', testClusterName(), '--json']);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      running: boolean;
      nodes: { ready: number; gpus: number };
    };
    expect(parsed.running).toBe(true);
    expect(parsed.nodes).toMatchObject({ ready: 3, gpus: 12 });
    const get = runCli(
      ['kubectl', 'get', 'nodes', '-l', 'nvidia.com/gpu.product=NVIDIA-A10G', '-o', 'name'],
      {
        SELECTN_CLUSTER: testClusterName(),
      },
    );
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.trim().split('\n')).toHaveLength(3);
  });
});
