// Cluster benchmark: cold build time (recorded by the build script), warm start of a fresh
// cluster, restart of an existing one, API server memory, and 100 fake GPU nodes with 2,000 kwok
// pods created and scheduled (time until all are Running). Writes bench/results/cluster.json.
//   node_modules/.bin/node bench/cluster/bench.ts [--pods 2000] [--nodes 100] [--out FILE]
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readBuildRecords } from '../../src/cluster/build.ts';
import { clusterDown, clusterPaths, clusterUp } from '../../src/cluster/cluster.ts';
import { readPidFile } from '../../src/cluster/procs.ts';
import { COMPONENTS } from '../../src/cluster/versions.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '2000' },
    nodes: { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/cluster.json' },
  },
});
const POD_COUNT = Number(values.pods);
const NODE_COUNT = Number(values.nodes);
const GPUS_PER_NODE = 8;
const NAME = 'bench';
const entry = fileURLToPath(new URL('../../src/cli/selectn.ts', import.meta.url));

function rssMiB(pidFile: string): number {
  const record = readPidFile(pidFile);
  if (!record) throw new Error(`no pid file ${pidFile}`);
  const status = readFileSync(`/proc/${record.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+([0-9]+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

const log = (line: string) => {
  console.error(`[bench] ${line}`);
};

// Every component must be built already (cold build time comes from the build's own records).
const records = readBuildRecords();
const missing = COMPONENTS.filter(
  (c) => !records.some((r) => r.name === c.name && r.version === c.version),
);
if (missing.length > 0)
  log(
    `no build record for ${missing.map((c) => c.name).join(', ')} (built before records existed)`,
  );
const breakdown = Object.fromEntries(
  COMPONENTS.map((c) => [
    c.name,
    records.find((r) => r.name === c.name && r.version === c.version)?.seconds ?? null,
  ]),
);
const coldBuildS = Object.values(breakdown).reduce<number>((sum, s) => sum + (s ?? 0), 0);

await clusterDown({ name: NAME, purge: true });
log(
  'warm start (binaries cached, fresh state): `selectn cluster up`, wall time including Node start',
);
const t0cli = performance.now();
const cli = spawnSync(
  process.execPath,
  [entry, 'cluster', 'up', '--name', NAME, '--nodes', '4', '--json'],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const warmStartS = (performance.now() - t0cli) / 1000;
if (cli.status !== 0)
  throw new Error(`selectn cluster up failed with status ${String(cli.status)}`);
const warmStartInProcessS = (JSON.parse(cli.stdout) as { seconds: number }).seconds;
await clusterDown({ name: NAME });
log('restart (binaries cached, existing state)');
const restart = await clusterUp({ name: NAME, onProgress: log });
const restartS = restart.seconds;
const paths = clusterPaths(NAME);
const apiserverPid = `${paths.pids}/kube-apiserver.pid`;
const idleRss = rssMiB(apiserverPid);

log(`scale: ${NODE_COUNT} nodes x ${GPUS_PER_NODE} GPUs`);
const t0nodes = performance.now();
await clusterUp({
  name: NAME,
  nodes: { count: NODE_COUNT, gpus: GPUS_PER_NODE, gpusPerSwitch: 4 },
  onProgress: log,
});
const nodes100ReadyS = (performance.now() - t0nodes) / 1000;

const kc = new KubeConfig();
kc.loadFromFile(paths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const namespace = 'bench-scale';
await core.createNamespace({ body: { metadata: { name: namespace } } });
const gpuPods = Math.min(POD_COUNT, NODE_COUNT * GPUS_PER_NODE);
const podBody = (i: number): V1Pod => ({
  metadata: { name: `p-${i}`, namespace, labels: { app: 'scale' } },
  spec: {
    containers: [
      {
        name: 'main',
        image: 'fake/serving:1',
        resources: {
          requests: { cpu: '100m', memory: '256Mi' },
          limits: i < gpuPods ? { 'nvidia.com/gpu': '1' } : {},
        },
      },
    ],
  },
});

log(`creating ${POD_COUNT} pods (${gpuPods} ask for one GPU each: every GPU gets used)`);
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < POD_COUNT) {
      const i = next++;
      await core.createNamespacedPod({ namespace, body: podBody(i) });
    }
  }),
);
const createdS = (performance.now() - t0) / 1000;
log(`created in ${createdS.toFixed(1)}s`);
let scheduledS: number | undefined;
let runningS: number | undefined;
const deadline = performance.now() + 600_000;
while (runningS === undefined && performance.now() < deadline) {
  const list = await core.listNamespacedPod({ namespace });
  const scheduled = list.items.filter((p) => p.spec?.nodeName).length;
  const running = list.items.filter((p) => p.status?.phase === 'Running').length;
  const now = (performance.now() - t0) / 1000;
  if (scheduledS === undefined && scheduled === POD_COUNT) scheduledS = now;
  if (running === POD_COUNT) runningS = now;
  else {
    log(`t=${now.toFixed(1)}s scheduled ${scheduled} running ${running}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
if (runningS === undefined) throw new Error(`not all ${POD_COUNT} pods Running within 600 s`);
const loadedRss = rssMiB(apiserverPid);
const etcdRss = rssMiB(`${paths.pids}/etcd.pid`);
await clusterDown({ name: NAME, purge: true });

const result = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  versions: Object.fromEntries(COMPONENTS.map((c) => [c.name, c.version])),
  coldBuildS: Math.round(coldBuildS),
  coldBuildBreakdownS: Object.fromEntries(
    Object.entries(breakdown).map(([k, v]) => [k, v === null ? null : Math.round(v)]),
  ),
  warmStartS: Number(warmStartS.toFixed(1)),
  warmStartInProcessS: Number(warmStartInProcessS.toFixed(1)),
  restartS: Number(restartS.toFixed(1)),
  apiserverRssMiB: { idle: idleRss, after2000Pods: loadedRss },
  etcdRssMiBAfter2000Pods: etcdRss,
  nodes: NODE_COUNT,
  nodesReadyS: Number(nodes100ReadyS.toFixed(1)),
  pods: POD_COUNT,
  podsCreateS: Number(createdS.toFixed(1)),
  podsScheduledS: Number((scheduledS ?? runningS).toFixed(1)),
  pods2000RunningS: Number(runningS.toFixed(1)),
  measuredAt: new Date().toISOString(),
};
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
