// Operator scale benchmark: 500 SelectNDeployments x 4 replicas on 100 fake GPU nodes (kwok
// fakes the pods: scheduled by the real scheduler, marked Running/Ready by kwok). Measures the
// time from applying them all until every one reports Ready, reconciles per second, and the
// operator's peak resident memory. Writes bench/results/operator-scale.json.
//   node_modules/.bin/node bench/operator/scale.ts [--deployments 500] [--replicas 4] [--nodes 100]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { load } from 'js-yaml';
import { fileURLToPath } from 'node:url';
import { binaryPaths } from '../../src/cluster/build.ts';
import { buildOperatorBundle } from '../../src/build/operator-bundle.ts';
import { clusterDown, clusterUp } from '../../src/cluster/cluster.ts';
import { KubeClient, paths } from '../../src/operator/kube/client.ts';
import { loadKubeConfig } from '../../src/operator/manager.ts';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '500' },
    replicas: { type: 'string', default: '4' },
    nodes: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '600' },
    workers: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
    // bundle: dist/selectn-operator.mjs, what the chart runs; source: `selectn operator` from src/
    operator: { type: 'string', default: 'bundle' },
    out: { type: 'string', default: 'bench/results/operator-scale.json' },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const REPLICAS = Number(values.replicas);
const NODES = Number(values.nodes);
const GPUS_PER_NODE = 24;
const NAME = 'bench-operator';
const NS = 'bench';
const root = fileURLToPath(new URL('../../', import.meta.url));

const log = (line: string) => {
  console.error(`[bench] ${line}`);
};

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const r = spawnSync(binaryPaths().kubectl, args, {
    encoding: 'utf8',
    input,
    env: { ...process.env, KUBECONFIG: kubeconfig },
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** User + system CPU seconds a process has used (from /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+([0-9]+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

/** The chart's default operator.nodeOptions: the bench runs the operator as installed. */
function chartNodeOptions(): string {
  const values = load(readFileSync(`${root}charts/selectn-operator/values.yaml`, 'utf8')) as {
    operator: { nodeOptions: string };
  };
  return values.operator.nodeOptions;
}

interface PodTimes {
  metadata: { creationTimestamp?: string };
  status?: { conditions?: { type: string; lastTransitionTime?: string }[] };
}

/**
 * When (seconds after the first create, 1 s resolution from the API server's timestamps) the
 * pods were created, scheduled and Ready: median and last. Shows which stage the time went to.
 */
function podTimeline(items: PodTimes[], startMs: number) {
  const stage = (at: (p: PodTimes) => string | undefined) => {
    const s = items
      .map((p) => Date.parse(at(p) ?? '') - startMs)
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b)
      .map((ms) => Math.round(ms / 100) / 10);
    return { p50: s[Math.floor(s.length / 2)] ?? null, max: s.at(-1) ?? null };
  };
  const cond = (type: string) => (p: PodTimes) =>
    p.status?.conditions?.find((c) => c.type === type)?.lastTransitionTime;
  return {
    created: stage((p) => p.metadata.creationTimestamp),
    scheduled: stage(cond('PodScheduled')),
    ready: stage(cond('Ready')),
  };
}

log(`starting cluster ${NAME}: ${NODES} nodes x ${GPUS_PER_NODE} GPUs`);
// A fresh cluster each run: a previous run's 2,000 pods would otherwise be deleted first.
await clusterDown({ name: NAME, purge: true });
const info = await clusterUp({
  name: NAME,
  nodes: {
    count: NODES,
    gpus: GPUS_PER_NODE,
    gpusPerSwitch: 2,
    pods: 110,
    cpu: '96',
    memory: '4Ti',
  },
  onProgress: log,
});
const kc = info.kubeconfig;
kubectl(kc, ['apply', '-f', `${root}crds/selectn.dev_selectndeployments.yaml`]);
kubectl(kc, ['wait', '--for=condition=Established', 'crd/selectndeployments.serving.selectn.dev']);
kubectl(kc, ['create', 'namespace', NS]);

if (values.operator !== 'bundle' && values.operator !== 'source')
  throw new Error(`--operator: bundle or source, got ${values.operator}`);
const entry =
  values.operator === 'bundle' ? await buildOperatorBundle() : `${root}src/cli/selectn.ts`;
const port = 18080 + Math.floor(Math.random() * 1000);
const operator = spawn(
  process.execPath,
  [
    entry,
    'operator',
    '--kubeconfig',
    kc,
    '--metrics-port',
    String(port),
    '--metrics-host',
    '127.0.0.1',
    '--namespace',
    NS,
    '--workers',
    values.workers,
  ],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      SELECTN_LOG_LEVEL: process.env['SELECTN_LOG_LEVEL'] ?? 'warn',
      NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? chartNodeOptions(),
    },
  },
);
let stderr = '';
operator.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
const pid = operator.pid ?? 0;
let peakRss = 0;
const sampler = setInterval(() => {
  try {
    peakRss = Math.max(peakRss, rssBytes(pid));
  } catch {
    // exited
  }
}, 250);

try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const items = Array.from({ length: DEPLOYMENTS }, (_, i) => ({
    apiVersion: 'serving.selectn.dev/v1alpha1',
    kind: 'SelectNDeployment',
    metadata: { name: `d${String(i).padStart(4, '0')}`, namespace: NS },
    spec: {
      replicas: REPLICAS,
      model: { name: 'llama-13b', source: { hostPath: { path: '/models/llama-13b' } } },
      slo: { ttftMs: 5000, tpotMs: 200 },
      resources: { gpu: { count: 1, product: 'a100-40gb' }, cpu: '1', memory: '8Gi' },
    },
  }));
  const reconcilesBefore = await metricSum(port, 'selectn_operator_reconciles_total');
  const client = new KubeClient(loadKubeConfig(kc));
  const t0 = performance.now();
  // Created 16 at a time over one client, as a burst of users would.
  for (let i = 0; i < items.length; i += 16) {
    await Promise.all(
      items.slice(i, i + 16).map((item) => client.create(paths.deployments(NS), item)),
    );
  }
  const applyS = (performance.now() - t0) / 1000;
  log(`applied ${DEPLOYMENTS} in ${applyS.toFixed(1)} s`);
  let ready = 0;
  const deadline = t0 + Number(values['timeout-s']) * 1000;
  for (;;) {
    // Over the bench's kept-alive client: a kubectl process per poll would load the machine.
    const list = await client.list<{
      metadata: { name?: string };
      status?: { conditions?: { type: string; status: string }[] };
    }>(paths.deployments(NS));
    ready = list.items.filter((d) =>
      d.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    if (ready === DEPLOYMENTS) break;
    if (performance.now() > deadline)
      throw new Error(`only ${ready}/${DEPLOYMENTS} Ready after ${values['timeout-s']} s`);
    log(`${ready}/${DEPLOYMENTS} Ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const convergeS = (performance.now() - t0) / 1000;
  const heapUsed = await metricSum(port, 'selectn_operator_nodejs_heap_size_used_bytes');
  const heapTotal = await metricSum(port, 'selectn_operator_nodejs_heap_size_total_bytes');
  const rssEnd = rssBytes(pid);
  const operatorCpuS = cpuSeconds(pid);
  const reconciles =
    (await metricSum(port, 'selectn_operator_reconciles_total')) - reconcilesBefore;
  const podList = JSON.parse(kubectl(kc, ['get', 'pods', '-n', NS, '-o', 'json'])) as {
    items: PodTimes[];
  };
  const pods = podList.items.length;
  const timeline = podTimeline(podList.items, Date.now() - performance.now() + t0);
  const result = {
    benchmark: 'operator-scale',
    command: `node_modules/.bin/node bench/operator/scale.ts --operator ${values.operator}`,
    operator: values.operator,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryBytes: totalmem() },
    deployments: DEPLOYMENTS,
    replicasEach: REPLICAS,
    workers: Number(values.workers),
    nodes: NODES,
    pods,
    convergeS: Math.round(convergeS * 10) / 10,
    applyS: Math.round(applyS * 10) / 10,
    timelineS: timeline,
    reconciles,
    reconcilesPerS: Math.round((reconciles / convergeS) * 10) / 10,
    operatorCpuS,
    operatorRssBytes: peakRss,
    operatorRssEndBytes: rssEnd,
    operatorHeapUsedBytes: heapUsed,
    operatorHeapTotalBytes: heapTotal,
    goals: { convergeS: 60, operatorRssBytes: 200 * 2 ** 20 },
    met: convergeS < 60 && peakRss < 200 * 2 ** 20,
  };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} catch (error) {
  log(`operator stderr tail:\n${stderr}`);
  throw error;
} finally {
  clearInterval(sampler);
  operator.kill('SIGTERM');
  if (!values.keep) await clusterDown({ name: NAME, purge: true });
}
