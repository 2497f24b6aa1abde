// Operator scale benchmark: 500 SelectNDeployments x 4 replicas on 100 fake GPU nodes (kwok
// fakes the pods: scheduled by the real scheduler, marked Running/Ready by kwok). Two phases, each
// on a fresh cluster:
//   floor:    the objects the operator would make (per resource a Secret, a Service and 4 pods)
//             created straight from one client, 16 resources at a time: how fast this machine's
//             control plane can take them at all;
//   operator: the SelectNDeployments applied, the operator makes everything; time until every
//             one reports Ready, reconciles per second, the operator's CPU and peak memory.
// Writes bench/results/operator-scale.json.
//   node_modules/.bin/node bench/operator/scale.ts [--deployments 500] [--replicas 4] [--nodes 100]
//     [--operator bundle|source] [--skip-floor]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { SpecSchema } from '../../src/api/index.ts';
import { buildOperatorBundle } from '../../src/build/operator-bundle.ts';
import { binaryPaths } from '../../src/cluster/build.ts';
import { clusterDown, clusterUp } from '../../src/cluster/cluster.ts';
import { KubeClient, paths } from '../../src/operator/kube/client.ts';
import type { KubeObject } from '../../src/operator/kube/types.ts';
import { loadKubeConfig } from '../../src/operator/manager.ts';
import { computePlan } from '../../src/operator/plan.ts';
import { plannerPort } from '../../src/operator/planner-port.ts';
import { buildPod, buildSecret, buildService, type Owner } from '../../src/operator/pod.ts';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '500' },
    replicas: { type: 'string', default: '4' },
    nodes: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '600' },
    workers: { type: 'string', default: '16' },
    // bundle: dist/selectn-operator.mjs, what the chart runs; source: `selectn operator` from src/
    operator: { type: 'string', default: 'bundle' },
    'skip-floor': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/operator-scale.json' },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const REPLICAS = Number(values.replicas);
const NODES = Number(values.nodes);
const WORKERS = Number(values.workers);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const GPUS_PER_NODE = 24;
const NAME = 'bench-operator';
const NS = 'bench';
const root = fileURLToPath(new URL('../../', import.meta.url));
if (values.operator !== 'bundle' && values.operator !== 'source')
  throw new Error(`--operator: bundle or source, got ${values.operator}`);

const log = (line: string) => {
  console.error(`[bench] ${line}`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

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
  const chart = load(readFileSync(`${root}charts/selectn-operator/values.yaml`, 'utf8')) as {
    operator: { nodeOptions: string };
  };
  return chart.operator.nodeOptions;
}

/** Runs `task` over `items`, `width` at a time (as a burst of users, or the operator's workers). */
async function inWaves<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width)
    await Promise.all(items.slice(i, i + width).map(task));
}

interface PodTimes extends KubeObject {
  status?: { conditions?: { type: string; status?: string; lastTransitionTime?: string }[] };
}

/**
 * When (seconds after the first create, 1 s resolution from the API server's timestamps) the
 * pods were created, scheduled and Ready: median and last. Shows which stage the time went to.
 */
function podTimeline(items: readonly PodTimes[], startEpochMs: number) {
  const stage = (at: (p: PodTimes) => string | undefined) => {
    const s = items
      .map((p) => Date.parse(at(p) ?? '') - startEpochMs)
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b)
      .map((ms) => round1(ms / 1000));
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

/** Every resource's spec, as applied; `spec` is it with the defaults the operator fills in. */
const specInput = {
  replicas: REPLICAS,
  model: { name: 'llama-13b', source: { hostPath: { path: '/models/llama-13b' } } },
  slo: { ttftMs: 5000, tpotMs: 200 },
  resources: { gpu: { count: 1, product: 'a100-40gb' }, cpu: '1', memory: '8Gi' },
};
const spec = SpecSchema.parse(specInput);
const names = Array.from({ length: DEPLOYMENTS }, (_, i) => `d${String(i).padStart(4, '0')}`);

async function freshCluster(): Promise<{ kubeconfig: string; client: KubeClient }> {
  log(`starting cluster ${NAME}: ${NODES} nodes x ${GPUS_PER_NODE} GPUs`);
  // A fresh cluster each phase: earlier pods would hold the GPUs and load the control plane.
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
  kubectl(kc, [
    'wait',
    '--for=condition=Established',
    'crd/selectndeployments.serving.selectn.dev',
  ]);
  kubectl(kc, ['create', 'namespace', NS]);
  return { kubeconfig: kc, client: new KubeClient(loadKubeConfig(kc)) };
}

/** Polls `count` until it reaches `want`; returns the seconds since `t0`. */
async function waitUntil(what: string, t0: number, want: number, count: () => Promise<number>) {
  for (;;) {
    const n = await count();
    const s = (performance.now() - t0) / 1000;
    if (n >= want) return s;
    if (performance.now() - t0 > TIMEOUT_MS)
      throw new Error(`only ${n}/${want} ${what} after ${values['timeout-s']} s`);
    log(`${n}/${want} ${what} after ${s.toFixed(1)} s`);
    await sleep(2000);
  }
}

const isReady = (o: PodTimes) =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function floorPhase() {
  const { client } = await freshCluster();
  const plan = computePlan(spec, 1, plannerPort(), new Date());
  const t0 = performance.now();
  const startEpochMs = Date.now();
  await inWaves(names, WORKERS, async (name) => {
    // The operator's own objects, without an owner (none exists here).
    const owner: Owner = { name, namespace: NS, uid: 'floor', generation: 1, spec };
    const orphan = <T extends KubeObject>(o: T): T => ({
      ...o,
      metadata: { ...o.metadata, ownerReferences: [] },
    });
    const service = client.apply(paths.service(NS, name), orphan(buildService(owner)));
    await client.create(paths.secrets(NS), orphan(buildSecret(owner, 'x'.repeat(64))));
    await Promise.all(
      Array.from({ length: REPLICAS }, (_, slot) =>
        client.create(paths.pods(NS), orphan(buildPod(owner, plan, slot, { localRunner: false }))),
      ),
    );
    await service;
  });
  const createS = (performance.now() - t0) / 1000;
  log(`floor: created ${DEPLOYMENTS * REPLICAS} pods in ${createS.toFixed(1)} s`);
  const readyS = await waitUntil(
    'pods Ready (floor)',
    t0,
    DEPLOYMENTS * REPLICAS,
    async () => (await client.listPaged<PodTimes>(paths.pods(NS), {})).items.filter(isReady).length,
  );
  const pods = (await client.listPaged<PodTimes>(paths.pods(NS), {})).items;
  return {
    allPodsReadyS: round1(readyS),
    createS: round1(createS),
    timelineS: podTimeline(pods, startEpochMs),
  };
}

async function operatorPhase() {
  const { kubeconfig, client } = await freshCluster();
  const entry =
    values.operator === 'bundle' ? await buildOperatorBundle() : `${root}src/cli/selectn.ts`;
  const port = 18080 + Math.floor(Math.random() * 1000);
  const operator = spawn(
    process.execPath,
    [
      entry,
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--metrics-port',
      String(port),
      '--metrics-host',
      '127.0.0.1',
      '--namespace',
      NS,
      '--workers',
      String(WORKERS),
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
      await sleep(200);
    }
    const reconcilesBefore = await metricSum(port, 'selectn_operator_reconciles_total');
    const t0 = performance.now();
    const startEpochMs = Date.now();
    // Created 16 at a time over one client, as a burst of users would.
    await inWaves(names, 16, async (name) => {
      await client.create(paths.deployments(NS), {
        apiVersion: 'serving.selectn.dev/v1alpha1',
        kind: 'SelectNDeployment',
        metadata: { name, namespace: NS },
        spec: specInput,
      });
    });
    const applyS = (performance.now() - t0) / 1000;
    log(`applied ${DEPLOYMENTS} in ${applyS.toFixed(1)} s`);
    const convergeS = await waitUntil(
      'SelectNDeployments Ready',
      t0,
      DEPLOYMENTS,
      async () => (await client.list<PodTimes>(paths.deployments(NS))).items.filter(isReady).length,
    );
    const heapUsed = await metricSum(port, 'selectn_operator_nodejs_heap_size_used_bytes');
    const heapTotal = await metricSum(port, 'selectn_operator_nodejs_heap_size_total_bytes');
    const reconciles =
      (await metricSum(port, 'selectn_operator_reconciles_total')) - reconcilesBefore;
    const pods = (await client.listPaged<PodTimes>(paths.pods(NS), {})).items;
    return {
      operator: values.operator,
      nodeOptions: process.env['NODE_OPTIONS'] ?? chartNodeOptions(),
      pods: pods.length,
      convergeS: round1(convergeS),
      applyS: round1(applyS),
      timelineS: podTimeline(pods, startEpochMs),
      reconciles,
      reconcilesPerS: round1(reconciles / convergeS),
      operatorCpuS: cpuSeconds(pid),
      operatorRssBytes: peakRss,
      operatorRssEndBytes: rssBytes(pid),
      operatorHeapUsedBytes: heapUsed,
      operatorHeapTotalBytes: heapTotal,
    };
  } catch (error) {
    log(`operator stderr tail:\n${stderr}`);
    throw error;
  } finally {
    clearInterval(sampler);
    operator.kill('SIGTERM');
  }
}

try {
  const floor = values['skip-floor'] ? undefined : await floorPhase();
  const run = await operatorPhase();
  const goals = { convergeS: 60, operatorRssBytes: 200 * 2 ** 20 };
  const result = {
    benchmark: 'operator-scale',
    command: `node_modules/.bin/node bench/operator/scale.ts --operator ${values.operator}`,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryBytes: totalmem() },
    deployments: DEPLOYMENTS,
    replicasEach: REPLICAS,
    workers: WORKERS,
    nodes: NODES,
    ...run,
    // The same objects created without the operator: the control plane's own limit here.
    floor: floor ?? null,
    convergeOverFloor: floor ? Math.round((run.convergeS / floor.allPodsReadyS) * 100) / 100 : null,
    goals,
    met: run.convergeS < goals.convergeS && run.operatorRssBytes < goals.operatorRssBytes,
  };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  if (!values.keep) await clusterDown({ name: NAME, purge: true });
}
