// Test helper for end-to-end tests against the real local control plane (src/cluster).
//
//   const cluster = await useCluster();            // starts it once per test run (shared by files)
//   const ns = await freshNamespace('operator');   // a new namespace per test; deleted by ns.cleanup()
//   await waitFor('pod Ready', async () => ..., { timeoutMs: 30_000 });
//
// test/cluster/global-setup.ts (vitest globalSetup) stops the cluster at the end of the run, checks
// that no process was left behind and, when a test failed, prints where the component logs are.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import { inject } from 'vitest';
import { binaryPaths } from '../../src/cluster/build.ts';
import { clusterPaths, clusterUp, type ClusterInfo } from '../../src/cluster/cluster.ts';
import { LOCAL_RUNNER_LABEL } from '../../src/cluster/labels.ts';
import { cacheRoot } from '../../src/cluster/paths.ts';
import type { NodeShape } from '../../src/cluster/nodes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Name of this run's test cluster, chosen by test/cluster/global-setup.ts. */
    selectnTestCluster: string;
  }
}

/**
 * Name of the cluster this test run shares: chosen per run by the global setup (so two runs at
 * once, e.g. two engineers, never share or stop each other's cluster), or $SELECTN_TEST_CLUSTER.
 */
export function testClusterName(): string {
  const fixed = process.env['SELECTN_TEST_CLUSTER'];
  if (fixed) return fixed;
  try {
    return inject('selectnTestCluster');
  } catch {
    return 'selectn-test';
  }
}

/** Shape of the test cluster's fake GPU nodes: 3 nodes x 4 GPUs, 2 GPUs per PCIe switch. */
export const TEST_NODE_SHAPE: NodeShape = {
  count: 3,
  namePrefix: 'gpu-node',
  gpus: 4,
  gpuProduct: 'NVIDIA-A10G',
  gpuMemoryMiB: 23028,
  gpusPerSwitch: 2,
  switchGBps: 16,
  cpu: '48',
  memory: '192Gi',
  pods: 110,
};

/** Hook timeout for useCluster(): a cold build of the binaries can take this long. */
export const CLUSTER_START_TIMEOUT_MS = 90 * 60_000;

export interface TestCluster {
  readonly info: ClusterInfo;
  readonly name: string;
  readonly kubeconfig: string;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  /** Component logs (etcd.log, kube-apiserver.log, ...). */
  readonly logsDir: string;
  /** Per-pod folders of the pod runner: <ns>_<name>_<uid>/<container>.log. */
  readonly podsDir: string;
}

let shared: Promise<TestCluster> | undefined;

/**
 * The shared test cluster, started on first use in this test run (idempotent across files and
 * workers: `up` serializes on a lock and reuses running components). Call it in beforeAll with
 * CLUSTER_START_TIMEOUT_MS.
 */
export function useCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    const info = await clusterUp({
      name: testClusterName(),
      nodes: TEST_NODE_SHAPE,
      runner: { backoffBaseMs: 500, backoffMaxMs: 4000 },
      env: { ...process.env, SELECTN_LOG_LEVEL: 'info' },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    const paths = clusterPaths(info.name);
    return {
      info,
      name: info.name,
      kubeconfig: info.kubeconfig,
      kc,
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      rbac: kc.makeApiClient(RbacAuthorizationV1Api),
      logsDir: paths.logs,
      podsDir: paths.pods,
    };
  })();
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

function logsHint(): string {
  const paths = clusterPaths(testClusterName());
  return (
    `component logs: ${paths.logs}; pod process logs: ${paths.pods} ` +
    `(a failing run copies both to ${join(cacheRoot(), 'test-logs')}/)`
  );
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Polls `check` until it returns a value other than undefined/false and returns that value.
 * On timeout throws "timed out after N ms waiting for <what>" with the last value or error seen
 * (pass `describe` to render it) and where the component logs are.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions & { describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = '';
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() > deadline) {
      let state = last;
      if (options.describe) {
        try {
          state = `${await options.describe()}${last ? `; ${last}` : ''}`;
        } catch (error) {
          state = `(describe failed: ${String(error)})`;
        }
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${state ? `; ${state}` : ''}; ${logsHint()}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

function summarizePod(pod: V1Pod | undefined): string {
  if (!pod) return 'pod not found';
  const s = pod.status;
  const containers = (s?.containerStatuses ?? [])
    .map(
      (c) =>
        `${c.name}: ready=${String(c.ready)} restarts=${c.restartCount} state=${JSON.stringify(c.state)}`,
    )
    .join('; ');
  const conditions = (s?.conditions ?? [])
    .map((c) => `${c.type}=${c.status}${c.message ? `(${c.message})` : ''}`)
    .join(' ');
  return `pod phase=${s?.phase ?? '-'} node=${pod.spec?.nodeName ?? '-'} podIP=${s?.podIP ?? '-'} conditions: ${conditions} containers: ${containers}`;
}

async function readPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<V1Pod | undefined> {
  try {
    return await core.readNamespacedPod({ name, namespace });
  } catch (error) {
    if (String(error).includes('404')) return undefined;
    throw error;
  }
}

/** Waits until the pod satisfies `predicate`; the failure message shows the pod's status. */
export async function waitForPod(
  cluster: TestCluster,
  namespace: string,
  name: string,
  what: string,
  predicate: (pod: V1Pod) => boolean,
  options: WaitOptions = {},
): Promise<V1Pod> {
  return waitFor(
    `pod ${namespace}/${name} ${what}`,
    async () => {
      const pod = await readPod(cluster.core, namespace, name);
      return pod && predicate(pod) ? pod : undefined;
    },
    {
      ...options,
      describe: async () => summarizePod(await readPod(cluster.core, namespace, name)),
    },
  );
}

export const isRunningAndReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until the pod is gone from the API. */
export async function waitForPodGone(
  cluster: TestCluster,
  namespace: string,
  name: string,
  options: WaitOptions = {},
): Promise<void> {
  await waitFor(
    `pod ${namespace}/${name} to be deleted`,
    async () => (await readPod(cluster.core, namespace, name)) === undefined,
    {
      ...options,
      describe: async () => summarizePod(await readPod(cluster.core, namespace, name)),
    },
  );
}

export interface TestNamespace {
  readonly name: string;
  /** Deletes the namespace (does not wait for it to be finalized). */
  readonly cleanup: () => Promise<void>;
}

/** A new namespace with a unique name; labelled selectn.dev/test=true. */
export async function freshNamespace(prefix = 'test'): Promise<TestNamespace> {
  const cluster = await useCluster();
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40);
  const name = `${safe}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await cluster.core.createNamespace({
    body: { metadata: { name, labels: { 'selectn.dev/test': 'true' } } },
  });
  await waitFor(`service account default in namespace ${name}`, async () => {
    try {
      return await cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    } catch {
      return undefined;
    }
  });
  return {
    name,
    cleanup: async () => {
      try {
        await cluster.core.deleteNamespace({ name });
      } catch (error) {
        if (!String(error).includes('404')) throw error;
      }
    },
  };
}

/** Absolute path of the project's Node (Node 24), for pod commands. */
export const NODE = process.execPath;

export interface RunnerPodOptions {
  readonly name: string;
  readonly namespace: string;
  /** Program for `node -e`; it gets POD_IP and PORT in its environment. Default: tiny HTTP server. */
  readonly script?: string;
  readonly port?: number;
  readonly gpus?: number;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly labels?: Record<string, string>;
  readonly spec?: Partial<V1PodSpec>;
  readonly terminationGracePeriodSeconds?: number;
}

/** A tiny HTTP server answering "ok <pod name>" on $POD_IP:$PORT, with /healthz. */
export const HTTP_SERVER_SCRIPT = `
const http = require('node:http');
const server = http.createServer((req, res) => { res.end('ok ' + process.env.POD_NAME + ' ' + req.url); });
server.listen(Number(process.env.PORT), process.env.POD_IP, () => console.log('listening on ' + process.env.POD_IP + ':' + process.env.PORT));
process.on('SIGTERM', () => { console.log('SIGTERM'); server.close(() => process.exit(0)); });
`;

/** Fixture builder: a pod the local runner runs (label selectn.dev/local-runner=true). */
export function runnerPod(options: RunnerPodOptions): V1Pod {
  const port = options.port ?? 8080;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { [LOCAL_RUNNER_LABEL]: 'true', app: options.name, ...options.labels },
    },
    spec: {
      restartPolicy: options.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 5,
      containers: [
        {
          name: 'main',
          image: 'selectn/local',
          command: [NODE, '-e', options.script ?? HTTP_SERVER_SCRIPT],
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'PORT', value: String(port) },
          ],
          ports: [{ name: 'http', containerPort: port }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
          ...(options.gpus
            ? { resources: { limits: { 'nvidia.com/gpu': String(options.gpus) } } }
            : {}),
        },
      ],
      ...options.spec,
    },
  };
}

/** Output of a runner pod's container process (all starts appended), or '' if none yet. */
export function podLogs(cluster: TestCluster, pod: V1Pod, container = 'main'): string {
  const dir = join(
    cluster.podsDir,
    `${pod.metadata?.namespace ?? ''}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`,
  );
  const file = join(dir, `${container}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** Pid of a runner pod's live container process (from the runner's pid file), if any. */
export function podProcessPid(
  cluster: TestCluster,
  pod: V1Pod,
  container = 'main',
): number | undefined {
  const dir = join(
    cluster.podsDir,
    `${pod.metadata?.namespace ?? ''}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`,
  );
  const file = join(dir, `${container}.pid`);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
}

/** Folders of every pod the runner ran in this cluster's lifetime (for debugging). */
export function runnerPodDirs(cluster: TestCluster): string[] {
  return existsSync(cluster.podsDir)
    ? readdirSync(cluster.podsDir).filter((d) => d.includes('_'))
    : [];
}

/** Runs the built kubectl against the test cluster (or with another kubeconfig). */
export function kubectl(
  args: readonly string[],
  options: { kubeconfig?: string; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binaryPaths().kubectl, [...args], {
      env: {
        ...process.env,
        KUBECONFIG: options.kubeconfig ?? clusterPaths(testClusterName()).kubeconfig,
      },
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** True while a process with this pid exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
