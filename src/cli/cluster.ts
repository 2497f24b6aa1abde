// `selectn cluster up|down|status|kubeconfig|build`: the local Kubernetes control plane with fake
// GPU nodes (src/cluster). Progress goes to stderr; --json prints one JSON document to stdout.
import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { ensureBinaries } from '../cluster/build.ts';
import {
  clusterDown,
  clusterPaths,
  clusterStatus,
  clusterUp,
  DEFAULT_CLUSTER_NAME,
  validateClusterName,
} from '../cluster/cluster.ts';
import { NodeShapeSchema } from '../cluster/nodes.ts';
import { COMPONENT_NAMES, type ComponentName } from '../cluster/versions.ts';
import { UsageError, usageErrorFromZod } from './errors.ts';

const progress = (line: string) => {
  process.stderr.write(`${line}\n`);
};

function clusterName(value: unknown): string {
  const name = typeof value === 'string' ? value : DEFAULT_CLUSTER_NAME;
  try {
    return validateClusterName(name);
  } catch (error) {
    throw new UsageError(`--name: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const FLAG_OF_FIELD: Record<string, string> = {
  count: '--nodes',
  gpus: '--gpus',
  gpuProduct: '--gpu-product',
  gpuMemoryMiB: '--gpu-memory-mib',
  gpusPerSwitch: '--gpus-per-switch',
  switchGBps: '--switch-gbps',
  cpu: '--cpu',
  memory: '--memory',
  pods: '--max-pods',
  namePrefix: '--node-prefix',
};

function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value;
  if (!/^[0-9]+$/.test(text))
    throw new UsageError(`${flag}: must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function numberFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw new UsageError(`${flag}: must be a number, got ${JSON.stringify(value)}`);
  return n;
}

interface UpFlags {
  name?: string;
  nodes?: string;
  gpus?: string;
  gpuProduct?: string;
  gpuMemoryMib?: string;
  gpusPerSwitch?: string;
  switchGbps?: string;
  cpu?: string;
  memory?: string;
  maxPods?: string;
  nodePrefix?: string;
  json?: boolean;
}

function nodeOverrides(flags: UpFlags): Partial<z.infer<typeof NodeShapeSchema>> {
  const raw = {
    count: intFlag('--nodes', flags.nodes),
    gpus: intFlag('--gpus', flags.gpus),
    gpuProduct: flags.gpuProduct,
    gpuMemoryMiB: intFlag('--gpu-memory-mib', flags.gpuMemoryMib),
    gpusPerSwitch: intFlag('--gpus-per-switch', flags.gpusPerSwitch),
    switchGBps: numberFlag('--switch-gbps', flags.switchGbps),
    cpu: flags.cpu,
    memory: flags.memory,
    pods: intFlag('--max-pods', flags.maxPods),
    namePrefix: flags.nodePrefix,
  };
  const overrides = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = NodeShapeSchema.safeParse({
    count: 1,
    namePrefix: 'gpu-node',
    gpus: 4,
    gpuProduct: 'x',
    gpuMemoryMiB: 1,
    gpusPerSwitch: 1,
    switchGBps: 1,
    cpu: '1',
    memory: '1Gi',
    pods: 1,
    ...overrides,
  });
  if (!parsed.success) {
    // Only the fields given on the command line can be wrong here; the full shape is checked in up.
    throw usageErrorFromZod(parsed.error, (path) => FLAG_OF_FIELD[path] ?? path);
  }
  return overrides;
}

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description(
      'local Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler) with fake GPU nodes',
    );

  cluster
    .command('up')
    .description(
      'build the binaries on first use, start the cluster (idempotent) and create the fake GPU nodes',
    )
    .option(
      '--name <name>',
      'cluster name (state in ~/.cache/selectn/cluster/<name>)',
      DEFAULT_CLUSTER_NAME,
    )
    .option('--nodes <n>', 'number of fake GPU nodes (default 4, or the saved value)')
    .option('--gpus <n>', 'GPUs per node (nvidia.com/gpu capacity)')
    .option('--gpu-product <name>', 'nvidia.com/gpu.product label, e.g. NVIDIA-A10G')
    .option('--gpu-memory-mib <n>', 'memory per GPU in MiB (nvidia.com/gpu.memory)')
    .option('--gpus-per-switch <n>', 'GPUs sharing one PCIe switch')
    .option('--switch-gbps <n>', 'host-to-GPU bandwidth of one PCIe switch, GB/s')
    .option('--cpu <quantity>', 'CPU capacity per node, e.g. 48')
    .option('--memory <quantity>', 'host memory per node, e.g. 192Gi')
    .option('--max-pods <n>', 'pod capacity per node')
    .option('--node-prefix <prefix>', 'node names are <prefix>-<index>')
    .option('--json', 'print the result as JSON')
    .action(async (flags: UpFlags) => {
      const name = clusterName(flags.name);
      const nodes = nodeOverrides(flags);
      const info = await clusterUp({ name, nodes, onProgress: progress });
      if (flags.json) console.log(JSON.stringify(info, null, 2));
      else {
        console.log(
          `cluster ${info.name} is up (${info.seconds.toFixed(1)}s): ${info.nodes.length} fake GPU nodes`,
        );
        console.log(`server:     ${info.server}`);
        console.log(`kubeconfig: ${info.kubeconfig}`);
        console.log(`logs:       ${info.logsDir}`);
      }
    });

  cluster
    .command('down')
    .description('stop every process the cluster started; keeps its state unless --purge')
    .option('--name <name>', 'cluster name', DEFAULT_CLUSTER_NAME)
    .option('--purge', 'also delete the state: etcd data, certificates, kubeconfig, logs')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { name?: string; purge?: boolean; json?: boolean }) => {
      const result = await clusterDown({
        name: clusterName(flags.name),
        purge: flags.purge === true,
        onProgress: progress,
      });
      if (flags.json) console.log(JSON.stringify(result, null, 2));
      else
        console.log(
          result.stopped.length > 0
            ? `stopped: ${result.stopped.join(', ')}`
            : 'nothing was running',
        );
    });

  cluster
    .command('status')
    .description('show which components run and how many fake GPU nodes are Ready')
    .option('--name <name>', 'cluster name', DEFAULT_CLUSTER_NAME)
    .option('--json', 'print the status as JSON')
    .action(async (flags: { name?: string; json?: boolean }) => {
      const status = await clusterStatus({ name: clusterName(flags.name) });
      if (flags.json) {
        console.log(JSON.stringify(status, null, 2));
        return;
      }
      if (!status.exists) {
        console.log(
          `cluster ${status.name} does not exist (run: selectn cluster up --name ${status.name})`,
        );
        return;
      }
      console.log(
        `cluster ${status.name}: ${status.running ? 'running' : 'not (fully) running'}  server ${status.server ?? '-'}`,
      );
      for (const c of status.components) {
        console.log(
          `  ${c.name.padEnd(24)} ${c.running ? `running (pid ${c.pid ?? '?'})` : 'stopped'}`,
        );
      }
      if (status.nodes) {
        console.log(
          `  nodes: ${status.nodes.ready}/${status.nodes.total} Ready, ${status.nodes.gpus} GPUs`,
        );
      }
    });

  cluster
    .command('kubeconfig')
    .description('print the admin kubeconfig (or its path with --path)')
    .option('--name <name>', 'cluster name', DEFAULT_CLUSTER_NAME)
    .option('--path', 'print only the file path')
    .action((flags: { name?: string; path?: boolean }) => {
      const file = clusterPaths(clusterName(flags.name)).kubeconfig;
      if (!existsSync(file)) throw new Error(`no kubeconfig at ${file}; run: selectn cluster up`);
      if (flags.path) console.log(file);
      else process.stdout.write(readFileSync(file, 'utf8'));
    });

  cluster
    .command('build')
    .description('build the pinned binaries into ~/.cache/selectn/bin (no-op when cached)')
    .option('--only <names>', `comma-separated subset of: ${COMPONENT_NAMES.join(', ')}`)
    .action(async (flags: { only?: string }) => {
      let only: ComponentName[] | undefined;
      if (flags.only !== undefined) {
        only = [];
        for (const part of flags.only.split(',').map((s) => s.trim())) {
          const found = COMPONENT_NAMES.find((c) => c === part);
          if (!found)
            throw new UsageError(
              `--only: unknown component ${JSON.stringify(part)} (known: ${COMPONENT_NAMES.join(', ')})`,
            );
          only.push(found);
        }
      }
      const paths = await ensureBinaries({
        only,
        onProgress: (p) => {
          progress(p.line);
        },
      });
      for (const [name, path] of Object.entries(paths)) {
        if (!only || only.some((o) => o === name)) console.log(`${name.padEnd(24)} ${path}`);
      }
    });
}
