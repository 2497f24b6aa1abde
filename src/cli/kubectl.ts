// `selectn kubectl ...`: runs the built kubectl against the local cluster's admin kubeconfig.
// Arguments pass through unchanged; the cluster is $SELECTN_CLUSTER (default "default").
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ensureBinaries } from '../cluster/build.ts';
import { clusterPaths, DEFAULT_CLUSTER_NAME, validateClusterName } from '../cluster/cluster.ts';
import { UsageError } from './errors.ts';

export function registerKubectl(program: Command): void {
  program
    .command('kubectl')
    .description(
      'run kubectl against the local cluster (cluster: $SELECTN_CLUSTER, default "default")',
    )
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', 'kubectl arguments, passed through unchanged')
    .action(async (_args: string[], _flags: unknown, command: Command) => {
      let name: string;
      try {
        name = validateClusterName(process.env['SELECTN_CLUSTER'] ?? DEFAULT_CLUSTER_NAME);
      } catch (error) {
        throw new UsageError(
          `SELECTN_CLUSTER: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const kubeconfig = clusterPaths(name).kubeconfig;
      if (!existsSync(kubeconfig))
        throw new Error(
          `cluster ${name} has no kubeconfig at ${kubeconfig}; run: selectn cluster up`,
        );
      const bins = await ensureBinaries({
        only: ['kubectl'],
        onProgress: (p) => process.stderr.write(`${p.line}\n`),
      });
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(bins.kubectl, command.args, {
          stdio: 'inherit',
          env: { ...process.env, KUBECONFIG: kubeconfig },
        });
        child.on('error', reject);
        child.on('close', (status, signal) => {
          resolve(status ?? (signal ? 128 : 1));
        });
      });
      if (code !== 0) throw new KubectlExit(code);
    });
}

/** kubectl failed; it already printed why. */
export class KubectlExit extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`kubectl exited with status ${code}`);
    this.name = 'KubectlExit';
    this.exitCode = code;
  }
}
