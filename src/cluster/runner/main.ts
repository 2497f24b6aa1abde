// Entry point of the pod runner process that `selectn cluster up` starts detached:
//   node src/cluster/runner/main.ts --kubeconfig=F --state-dir=D --cluster=NAME [--backoff-base-ms=N]
//     [--backoff-max-ms=N] [--workdir=DIR] [--apiserver=URL]
// Watches pods labelled selectn.dev/local-runner=true and runs them (see pod-runner.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { createLogger } from '../../log/logger.ts';
import { LOCAL_RUNNER_LABEL } from '../labels.ts';
import { readPidFile, stopRecord } from '../procs.ts';
import { IpPool } from './ip-pool.ts';
import { PodRunner } from './pod-runner.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'state-dir': { type: 'string' },
    cluster: { type: 'string' },
    'backoff-base-ms': { type: 'string', default: '10000' },
    'backoff-max-ms': { type: 'string', default: '300000' },
    workdir: { type: 'string', default: process.cwd() },
    apiserver: { type: 'string', default: '' },
  },
});

function required(name: string, value: string | undefined): string {
  if (!value) throw new Error(`--${name} is required`);
  return value;
}

const kubeconfig = required('kubeconfig', values.kubeconfig);
const stateDir = required('state-dir', values['state-dir']);
const cluster = required('cluster', values.cluster);
const log = createLogger({ name: 'pod-runner', pretty: false });
mkdirSync(stateDir, { recursive: true });

/** Pod processes a previous runner left (it was killed hard): stop them before starting again. */
async function reapLeftovers(): Promise<void> {
  for (const entry of readdirSync(stateDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(stateDir, entry.name);
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.pid')) continue;
      const record = readPidFile(join(dir, file));
      if (record && (await stopRecord(record, 5000)))
        log.warn({ pid: record.pid }, 'stopped a leftover pod process');
      rmSync(join(dir, file), { force: true });
    }
  }
}

await reapLeftovers();

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const api = kc.makeApiClient(CoreV1Api);
const caData = kc.getCurrentCluster()?.caData;
const caPem = caData ? Buffer.from(caData, 'base64').toString('utf8') : '';
const inherit: Record<string, string> = {};
for (const name of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER']) {
  const value = process.env[name];
  if (value !== undefined) inherit[name] = value;
}
const apiserverPort = values.apiserver ? new URL(values.apiserver).port : '';
const runner = new PodRunner(
  api,
  new IpPool(cluster),
  {
    stateDir,
    workdir: values.workdir,
    backoffBaseMs: Number(values['backoff-base-ms']),
    backoffMaxMs: Number(values['backoff-max-ms']),
    apiserverPort,
    hostIP: '127.0.0.1',
    inheritEnv: inherit,
  },
  log,
  caPem,
);

const selector = `${LOCAL_RUNNER_LABEL}=true`;
const informer = makeInformer<V1Pod>(
  kc,
  '/api/v1/pods',
  () => api.listPodForAllNamespaces({ labelSelector: selector }),
  selector,
);
informer.on('add', (pod) => {
  runner.onPod(pod);
});
informer.on('update', (pod) => {
  runner.onPod(pod);
});
informer.on('delete', (pod) => {
  runner.onDelete(pod);
});
let stopping = false;
informer.on('error', (error: unknown) => {
  if (stopping) return;
  log.warn(
    { err: error instanceof Error ? error.message : String(error) },
    'pod watch failed; restarting in 1s',
  );
  setTimeout(() => {
    if (!stopping) void informer.start();
  }, 1000);
});

const readyFile = join(stateDir, 'runner.ready');
await informer.start();
writeFileSync(readyFile, String(process.pid));
log.info({ cluster, selector }, 'pod runner watching pods');

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, pods: runner.size }, 'pod runner stopping its pod processes');
  await informer.stop();
  await runner.shutdown(5000);
  if (existsSync(readyFile) && readFileSync(readyFile, 'utf8') === String(process.pid))
    rmSync(readyFile, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
