// The local control plane: `up` builds (first time), starts etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok and the pod runner as detached processes tracked
// by pid files, and creates the fake GPU nodes; `down` stops them; `status` reports.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { z } from 'zod';
import { ensureBinaries, type BinaryPaths } from './build.ts';
import { clientCertPaths, ensurePki, type ClientName, type PkiPaths } from './certs.ts';
import { freePort, httpsGet, pollUntil, portInUse } from './health.ts';
import { kwokConfigYaml } from './kwok-stages.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { CLUSTER_NODE_LABEL } from './labels.ts';
import { acquireFileLock } from './lock.ts';
import {
  DEFAULT_NODE_SHAPE,
  gpuNodeManifest,
  NodeShapeSchema,
  nodeName,
  type NodeShape,
} from './nodes.ts';
import { clusterStateDir, repoRoot } from './paths.ts';
import {
  readPidFile,
  recordAlive,
  runsWithArgs,
  spawnDetached,
  stopPidFile,
  stopRecord,
  type PidRecord,
} from './procs.ts';

export const DEFAULT_CLUSTER_NAME = 'default';

/** What `up` runs; tools run against the cluster (helm) are ensured by whoever runs them. */
export const CLUSTER_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;

export const RunnerSettingsSchema = z.object({
  backoffBaseMs: z.number().int().min(10).describe('first restart back-off (kubelet: 10 s)'),
  backoffMaxMs: z.number().int().min(10).describe('back-off cap (kubelet: 300 s)'),
  podWorkdir: z.string().min(1).describe('working directory of pod processes without workingDir'),
});
export type RunnerSettings = z.infer<typeof RunnerSettingsSchema>;

export const DEFAULT_RUNNER_SETTINGS: RunnerSettings = {
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
  podWorkdir: repoRoot,
};

const PortsSchema = z.object({
  etcd: z.number().int(),
  etcdPeer: z.number().int(),
  apiserver: z.number().int(),
  controllerManager: z.number().int(),
  scheduler: z.number().int(),
  kwok: z.number().int(),
});
type Ports = z.infer<typeof PortsSchema>;

const ClusterConfigSchema = z.object({
  name: z.string(),
  ports: PortsSchema,
  nodes: NodeShapeSchema,
  runner: RunnerSettingsSchema,
});
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

/** Components in start order; `down` stops them in reverse. */
export const PROCESS_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'pod-runner',
] as const;
export type ProcessName = (typeof PROCESS_NAMES)[number];

export interface ClusterPaths {
  readonly state: string;
  readonly config: string;
  readonly kubeconfig: string;
  readonly logs: string;
  readonly pids: string;
  readonly pods: string;
  readonly etcdData: string;
}

export function clusterPaths(name: string, env: NodeJS.ProcessEnv = process.env): ClusterPaths {
  const state = clusterStateDir(name, env);
  return {
    state,
    config: join(state, 'config.json'),
    kubeconfig: join(state, 'kubeconfig'),
    logs: join(state, 'logs'),
    pids: join(state, 'pids'),
    pods: join(state, 'pods'),
    etcdData: join(state, 'etcd'),
  };
}

export function validateClusterName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(name)) {
    throw new Error(
      `cluster name ${JSON.stringify(name)} must be a DNS label (a-z, 0-9, '-'), at most 40 chars`,
    );
  }
  return name;
}

export function readClusterConfig(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): ClusterConfig | undefined {
  const file = clusterPaths(name, env).config;
  if (!existsSync(file)) return undefined;
  return ClusterConfigSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export interface UpOptions {
  readonly name?: string;
  /** Fields to change in the node shape (default: the saved shape, else DEFAULT_NODE_SHAPE). */
  readonly nodes?: Partial<NodeShape>;
  readonly runner?: Partial<RunnerSettings>;
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines for a person: build steps, each component started and ready. */
  readonly onProgress?: (line: string) => void;
}

export interface ClusterInfo {
  readonly name: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly stateDir: string;
  readonly logsDir: string;
  readonly nodes: readonly string[];
  /** Components this call started (empty when the cluster was already up). */
  readonly started: readonly ProcessName[];
  readonly seconds: number;
}

async function choosePorts(previous: Ports | undefined): Promise<Ports> {
  if (previous) return previous;
  const taken = new Set<number>();
  const pick = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return {
    etcd: await pick(),
    etcdPeer: await pick(),
    apiserver: await pick(),
    controllerManager: await pick(),
    scheduler: await pick(),
    kwok: await pick(),
  };
}

function pidFile(paths: ClusterPaths, name: ProcessName): string {
  return join(paths.pids, `${name}.pid`);
}

function logFile(paths: ClusterPaths, name: ProcessName): string {
  return join(paths.logs, `${name}.log`);
}

function kubeconfigFor(paths: ClusterPaths, client: ClientName): string {
  return client === 'admin'
    ? paths.kubeconfig
    : join(paths.state, 'kubeconfigs', `${client}.kubeconfig`);
}

const runnerEntry = fileURLToPath(new URL('./runner/main.ts', import.meta.url));

interface Launch {
  readonly command: string;
  readonly args: string[];
  readonly marker: string;
  readonly ready: () => Promise<{ ok: boolean; detail: string }>;
  readonly timeoutMs: number;
}

function launches(
  config: ClusterConfig,
  paths: ClusterPaths,
  pki: PkiPaths,
  bins: BinaryPaths,
): Record<ProcessName, Launch> {
  const { ports } = config;
  const admin = clientCertPaths(paths.state, 'admin');
  const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
  const schedulerConfig = join(paths.state, 'kube-scheduler.yaml');
  const kwokConfig = join(paths.state, 'kwok.yaml');
  const kcmKubeconfig = kubeconfigFor(paths, 'kube-controller-manager');
  const schedKubeconfig = kubeconfigFor(paths, 'kube-scheduler');
  const componentHealth = (port: number) => async () => {
    const r = await httpsGet(`https://127.0.0.1:${port}/healthz`, {});
    return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(0, 200)}` };
  };
  return {
    etcd: {
      command: bins.etcd,
      marker: bins.etcd,
      args: [
        '--name=selectn',
        `--data-dir=${paths.etcdData}`,
        `--listen-client-urls=https://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=https://127.0.0.1:${ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=selectn=http://127.0.0.1:${ports.etcdPeer}`,
        `--cert-file=${pki.etcdServerCert}`,
        `--key-file=${pki.etcdServerKey}`,
        `--trusted-ca-file=${pki.caCert}`,
        '--client-cert-auth=true',
        // A throw-away local cluster: trade crash durability for speed on shared disks.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      ready: async () => {
        const r = await httpsGet(`https://127.0.0.1:${ports.etcd}/health`, {
          ca: pki.caCert,
          cert: pki.apiserverEtcdClientCert,
          key: pki.apiserverEtcdClientKey,
        });
        return {
          ok: r.status === 200 && r.body.includes('"health":"true"'),
          detail: `${r.status} ${r.body}`,
        };
      },
      timeoutMs: 30_000,
    },
    'kube-apiserver': {
      command: bins['kube-apiserver'],
      marker: bins['kube-apiserver'],
      args: [
        '--advertise-address=127.0.0.1',
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--etcd-servers=https://127.0.0.1:${ports.etcd}`,
        `--etcd-cafile=${pki.caCert}`,
        `--etcd-certfile=${pki.apiserverEtcdClientCert}`,
        `--etcd-keyfile=${pki.apiserverEtcdClientKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        '--profiling=false',
        '--event-ttl=1h',
        `--cert-dir=${join(paths.state, 'apiserver-certs')}`,
        '--max-requests-inflight=800',
        '--max-mutating-requests-inflight=400',
      ],
      ready: async () => {
        const r = await httpsGet(`${apiserverUrl}/readyz`, {
          ca: pki.caCert,
          cert: admin.cert,
          key: admin.key,
        });
        return { ok: r.status === 200, detail: `${r.status} ${r.body.slice(-400)}` };
      },
      timeoutMs: 90_000,
    },
    'kube-controller-manager': {
      command: bins['kube-controller-manager'],
      marker: bins['kube-controller-manager'],
      args: [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager}`,
        `--cert-dir=${join(paths.state, 'kcm-certs')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        '--controllers=*',
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        '--concurrent-gc-syncs=20',
        '--horizontal-pod-autoscaler-sync-period=5s',
      ],
      ready: componentHealth(ports.controllerManager),
      timeoutMs: 60_000,
    },
    'kube-scheduler': {
      command: bins['kube-scheduler'],
      marker: bins['kube-scheduler'],
      args: [
        `--config=${schedulerConfig}`,
        `--authentication-kubeconfig=${schedKubeconfig}`,
        `--authorization-kubeconfig=${schedKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.scheduler}`,
        `--cert-dir=${join(paths.state, 'scheduler-certs')}`,
      ],
      ready: componentHealth(ports.scheduler),
      timeoutMs: 60_000,
    },
    kwok: {
      command: bins.kwok,
      marker: bins.kwok,
      args: [
        `--kubeconfig=${kubeconfigFor(paths, 'kwok')}`,
        `--config=${kwokConfig}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--manage-nodes-with-label-selector=${CLUSTER_NODE_LABEL}=${config.name}`,
        '--node-ip=127.0.0.1',
        // Fake pod IPs (kwok-run pods) come from 198.18.0.0/15, the range reserved for
        // benchmarking (RFC 2544): never routed anywhere, yet valid endpoint addresses, so the
        // Services of fake pods get endpoints (loopback addresses are refused, and the
        // endpoint controllers would retry and warn for every pod).
        '--cidr=198.18.0.1/16',
        '--node-lease-duration-seconds=40',
        `--server-address=127.0.0.1:${ports.kwok}`,
      ],
      ready: async () => {
        const r = await new Promise<{ status: number }>((resolve) => {
          import('node:http')
            .then(({ get }) => {
              const req = get(
                `http://127.0.0.1:${ports.kwok}/healthz`,
                { timeout: 2000 },
                (res) => {
                  res.resume();
                  resolve({ status: res.statusCode ?? 0 });
                },
              );
              req.on('error', () => {
                resolve({ status: 0 });
              });
            })
            .catch(() => {
              resolve({ status: 0 });
            });
        });
        return { ok: r.status === 200, detail: `healthz status ${r.status}` };
      },
      timeoutMs: 60_000,
    },
    'pod-runner': {
      command: process.execPath,
      marker: runnerEntry,
      args: [
        runnerEntry,
        `--kubeconfig=${kubeconfigFor(paths, 'pod-runner')}`,
        `--state-dir=${paths.pods}`,
        `--cluster=${config.name}`,
        `--backoff-base-ms=${config.runner.backoffBaseMs}`,
        `--backoff-max-ms=${config.runner.backoffMaxMs}`,
        `--workdir=${config.runner.podWorkdir}`,
        `--apiserver=${apiserverUrl}`,
      ],
      ready: () => {
        const file = join(paths.pods, 'runner.ready');
        const ok = existsSync(file);
        return Promise.resolve({ ok, detail: ok ? 'ready' : 'informer not synced yet' });
      },
      timeoutMs: 30_000,
    },
  };
}

function writeComponentConfigs(config: ClusterConfig, paths: ClusterPaths, pki: PkiPaths): void {
  const server = `https://127.0.0.1:${config.ports.apiserver}`;
  mkdirSync(join(paths.state, 'kubeconfigs'), { recursive: true });
  for (const client of [
    'admin',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    'pod-runner',
  ] as const) {
    const certs = clientCertPaths(paths.state, client);
    writeKubeconfig(kubeconfigFor(paths, client), {
      clusterName: `selectn-${config.name}`,
      server,
      caFile: pki.caCert,
      certFile: certs.cert,
      keyFile: certs.key,
      user: client,
    });
  }
  writeFileSync(
    join(paths.state, 'kube-scheduler.yaml'),
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'clientConnection:',
      `  kubeconfig: ${JSON.stringify(kubeconfigFor(paths, 'kube-scheduler'))}`,
      '  qps: 500',
      '  burst: 1000',
      'leaderElection:',
      '  leaderElect: false',
      '',
    ].join('\n'),
  );
  writeFileSync(join(paths.state, 'kwok.yaml'), kwokConfigYaml());
}

function adminClient(paths: ClusterPaths): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

function nodeDiffers(existing: V1Node, wanted: V1Node): boolean {
  const labels = existing.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(wanted.metadata?.labels ?? {})) {
    if (labels[key] !== value) return true;
  }
  const capacity = existing.status?.capacity ?? {};
  for (const [key, value] of Object.entries(wanted.status?.capacity ?? {})) {
    if (capacity[key] !== value) return true;
  }
  return false;
}

/** Makes the cluster's node pool match the shape: creates, recreates (shape changed) or deletes. */
async function reconcileNodes(config: ClusterConfig, api: CoreV1Api): Promise<string[]> {
  const shape = config.nodes;
  const existing = await api.listNode({ labelSelector: `${CLUSTER_NODE_LABEL}=${config.name}` });
  const byName = new Map(existing.items.map((n) => [n.metadata?.name ?? '', n]));
  const wantedNames: string[] = [];
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < shape.count; i++) {
    const name = nodeName(shape, i);
    wantedNames.push(name);
    const manifest = gpuNodeManifest(config.name, shape, name);
    const current = byName.get(name);
    if (current && !nodeDiffers(current, manifest)) continue;
    work.push(
      (async () => {
        if (current) await api.deleteNode({ name });
        await api.createNode({ body: manifest });
      })(),
    );
  }
  for (const name of byName.keys()) {
    if (name.startsWith(`${shape.namePrefix}-`) && !wantedNames.includes(name)) {
      work.push(api.deleteNode({ name }));
    }
  }
  await Promise.all(work);
  return wantedNames;
}

async function waitNodesReady(
  api: CoreV1Api,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  if (names.length === 0) return;
  await pollUntil(
    `${names.length} fake GPU nodes Ready`,
    async () => {
      const list = await api.listNode();
      const ready = new Set(
        list.items
          .filter((n) =>
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          )
          .map((n) => n.metadata?.name ?? ''),
      );
      const missing = names.filter((n) => !ready.has(n));
      return {
        ok: missing.length === 0,
        detail: `not Ready yet: ${missing.slice(0, 5).join(', ')}`,
      };
    },
    timeoutMs,
    250,
  );
}

async function waitDefaultServiceAccount(api: CoreV1Api, timeoutMs: number): Promise<void> {
  await pollUntil(
    'the default service account (controller manager working)',
    async () => {
      try {
        await api.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return { ok: true, detail: '' };
      } catch (error) {
        return {
          ok: false,
          detail: error instanceof Error ? error.message.slice(0, 200) : String(error),
        };
      }
    },
    timeoutMs,
    200,
  );
}

function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/**
 * Brings the cluster up (idempotent): components already running are kept, missing ones are
 * started in order and waited for; the node pool is reconciled to the requested shape.
 */
export async function clusterUp(options: UpOptions = {}): Promise<ClusterInfo> {
  const started0 = performance.now();
  const env = options.env ?? process.env;
  const name = validateClusterName(options.name ?? DEFAULT_CLUSTER_NAME);
  const report = options.onProgress ?? (() => undefined);
  const paths = clusterPaths(name, env);
  const bins = await ensureBinaries({
    env,
    only: CLUSTER_BINARIES,
    onProgress: (p) => {
      report(`build ${p.line}`);
    },
  });

  mkdirSync(paths.state, { recursive: true, mode: 0o700 });
  const release = await acquireFileLock(join(paths.state, 'up.lock'), {
    onWait: (pid) => {
      report(`waiting for another up/down of cluster ${name} (pid ${pid})`);
    },
    timeoutMs: 600_000,
  });
  try {
    const previous = readClusterConfig(name, env);
    const nodes = NodeShapeSchema.parse({
      ...(previous?.nodes ?? DEFAULT_NODE_SHAPE),
      ...options.nodes,
    });
    const runner = RunnerSettingsSchema.parse({
      ...(previous?.runner ?? DEFAULT_RUNNER_SETTINGS),
      ...options.runner,
    });
    const config: ClusterConfig = {
      name,
      ports: await choosePorts(previous?.ports),
      nodes,
      runner,
    };
    writeFileSync(paths.config, JSON.stringify(config, null, 2) + '\n');
    for (const dir of [paths.logs, paths.pids, paths.pods, paths.etcdData]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const pki = await ensurePki(paths.state);
    writeComponentConfigs(config, paths, pki);
    const plan = launches(config, paths, pki, bins);
    const started: ProcessName[] = [];

    for (const component of PROCESS_NAMES) {
      const launch = plan[component];
      const existing = readPidFile(pidFile(paths, component));
      if (existing && recordAlive(existing)) {
        if (runsWithArgs(existing.pid, launch.args)) {
          await pollUntil(
            `${component} (already running) to be healthy`,
            launch.ready,
            launch.timeoutMs,
          );
          continue;
        }
        // Started with other flags (other runner settings, an older checkout's kwok CIDR):
        // restarted, so that `up` always leaves the cluster as this version configures it.
        report(`restarting ${component} (its flags changed)`);
        await stopRecord(existing, 15_000);
      }
      if (component === 'pod-runner') rmSync(join(paths.pods, 'runner.ready'), { force: true });
      const portOf: Partial<Record<ProcessName, number>> = {
        etcd: config.ports.etcd,
        'kube-apiserver': config.ports.apiserver,
        'kube-controller-manager': config.ports.controllerManager,
        'kube-scheduler': config.ports.scheduler,
        kwok: config.ports.kwok,
      };
      const port = portOf[component];
      if (port !== undefined && (await portInUse(port))) {
        throw new Error(
          `${component} cannot start: 127.0.0.1:${port} is in use by another process; stop it, or run ` +
            `'selectn cluster down --purge --name ${name}' to forget this cluster's ports`,
        );
      }
      report(`starting ${component}`);
      const t0 = performance.now();
      const record: PidRecord = await spawnDetached({
        command: launch.command,
        args: launch.args,
        marker: launch.marker,
        logFile: logFile(paths, component),
        pidFile: pidFile(paths, component),
        cwd: component === 'pod-runner' ? repoRoot : paths.state,
        env: { ...env, SELECTN_LOG_LEVEL: env['SELECTN_LOG_LEVEL'] ?? 'info' },
      });
      started.push(component);
      try {
        await pollUntil(
          `${component} to become ready`,
          async () => {
            if (!recordAlive(record)) {
              return { ok: false, detail: 'exited' };
            }
            return launch.ready();
          },
          launch.timeoutMs,
          100,
        );
      } catch (error) {
        const exited = !recordAlive(record);
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${component} ${exited ? 'exited during start' : 'did not become ready'} (${message}); ` +
            `last lines of ${logFile(paths, component)}:\n${logTail(logFile(paths, component))}`,
          { cause: error },
        );
      }
      report(`${component} ready (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    }

    const api = adminClient(paths);
    const nodeNames = await reconcileNodes(config, api);
    await waitNodesReady(api, nodeNames, 60_000);
    report(`${nodeNames.length} fake GPU nodes Ready`);
    await waitDefaultServiceAccount(api, 60_000);
    const seconds = (performance.now() - started0) / 1000;
    report(`cluster ${name} ready in ${seconds.toFixed(1)}s; kubeconfig: ${paths.kubeconfig}`);
    return {
      name,
      kubeconfig: paths.kubeconfig,
      server: `https://127.0.0.1:${config.ports.apiserver}`,
      stateDir: paths.state,
      logsDir: paths.logs,
      nodes: nodeNames,
      started,
      seconds,
    };
  } finally {
    release();
  }
}

export interface DownOptions {
  readonly name?: string;
  /** Also remove the state dir: etcd data, certificates, kubeconfig, logs. */
  readonly purge?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (line: string) => void;
}

export interface DownResult {
  readonly stopped: readonly string[];
  readonly purged: boolean;
}

/** Pod processes the runner left behind (it records each pod process's pid file under pods/). */
function leftoverPodPidFiles(paths: ClusterPaths): string[] {
  if (!existsSync(paths.pods)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(paths.pods, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(paths.pods, entry.name);
    for (const file of readdirSync(dir)) if (file.endsWith('.pid')) files.push(join(dir, file));
  }
  return files;
}

/** Stops every process `up` started (runner first, etcd last). Keeps state unless purge. */
export async function clusterDown(options: DownOptions = {}): Promise<DownResult> {
  const env = options.env ?? process.env;
  const name = validateClusterName(options.name ?? DEFAULT_CLUSTER_NAME);
  const report = options.onProgress ?? (() => undefined);
  const paths = clusterPaths(name, env);
  if (!existsSync(paths.state)) return { stopped: [], purged: false };
  const release = await acquireFileLock(join(paths.state, 'up.lock'), { timeoutMs: 600_000 });
  const stopped: string[] = [];
  try {
    for (const component of [...PROCESS_NAMES].reverse()) {
      const grace = component === 'pod-runner' ? 20_000 : 10_000;
      if (await stopPidFile(pidFile(paths, component), grace)) {
        stopped.push(component);
        report(`stopped ${component}`);
      }
    }
    for (const file of leftoverPodPidFiles(paths)) {
      const record = readPidFile(file);
      if (record && (await stopRecord(record, 2_000))) {
        stopped.push(`pod process ${record.pid}`);
        report(`stopped leftover pod process ${record.pid}`);
      }
      rmSync(file, { force: true });
    }
    rmSync(join(paths.pods, 'runner.ready'), { force: true });
  } finally {
    release();
  }
  if (options.purge) {
    rmSync(paths.state, { recursive: true, force: true });
    report(`removed ${paths.state}`);
  }
  return { stopped, purged: options.purge === true };
}

export interface ComponentStatus {
  readonly name: ProcessName;
  readonly pid: number | null;
  readonly running: boolean;
  readonly log: string;
}

export interface ClusterStatus {
  readonly name: string;
  readonly exists: boolean;
  readonly running: boolean;
  readonly apiserverReady: boolean;
  readonly server: string | null;
  readonly kubeconfig: string;
  readonly components: readonly ComponentStatus[];
  readonly nodes: { readonly total: number; readonly ready: number; readonly gpus: number } | null;
}

export async function clusterStatus(
  options: { name?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ClusterStatus> {
  const env = options.env ?? process.env;
  const name = validateClusterName(options.name ?? DEFAULT_CLUSTER_NAME);
  const paths = clusterPaths(name, env);
  const config = readClusterConfig(name, env);
  const components = PROCESS_NAMES.map((component): ComponentStatus => {
    const record = readPidFile(pidFile(paths, component));
    const running = record !== undefined && recordAlive(record);
    return {
      name: component,
      pid: running ? record.pid : null,
      running,
      log: logFile(paths, component),
    };
  });
  let apiserverReady = false;
  let nodes: ClusterStatus['nodes'] = null;
  if (config && components.find((c) => c.name === 'kube-apiserver')?.running) {
    const admin = clientCertPaths(paths.state, 'admin');
    const r = await httpsGet(`https://127.0.0.1:${config.ports.apiserver}/readyz`, {
      ca: pkiPathsCa(paths),
      cert: admin.cert,
      key: admin.key,
    });
    apiserverReady = r.status === 200;
    if (apiserverReady) {
      const list = await adminClient(paths).listNode({
        labelSelector: `${CLUSTER_NODE_LABEL}=${name}`,
      });
      let ready = 0;
      let gpus = 0;
      for (const node of list.items) {
        if (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          ready++;
        gpus += Number(node.status?.capacity?.['nvidia.com/gpu'] ?? 0);
      }
      nodes = { total: list.items.length, ready, gpus };
    }
  }
  return {
    name,
    exists: config !== undefined,
    running: components.every((c) => c.running) && apiserverReady,
    apiserverReady,
    server: config ? `https://127.0.0.1:${config.ports.apiserver}` : null,
    kubeconfig: paths.kubeconfig,
    components,
    nodes,
  };
}

function pkiPathsCa(paths: ClusterPaths): string {
  return join(paths.state, 'pki', 'ca.crt');
}

/** Waits until no process of this cluster runs (used after `down` in tests). */
export async function waitAllStopped(
  name: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
) {
  const paths = clusterPaths(name, env);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const alive = PROCESS_NAMES.filter((c) => {
      const r = readPidFile(pidFile(paths, c));
      return r !== undefined && recordAlive(r);
    });
    if (alive.length === 0) return;
    await sleep(100);
  }
  throw new Error(`cluster ${name} processes still running after ${timeoutMs} ms`);
}
