// `selectn kubectl ...` and `selectn helm ...`: the pinned kubectl and helm (built on first use)
// against the local cluster's admin kubeconfig, so no one needs cache paths. Arguments pass through
// unchanged; the cluster is $SELECTN_CLUSTER (default "default"). helm keeps its cache, config and
// data under the cluster's state folder, apart from any helm setup of the user's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ensureBinaries } from '../cluster/build.ts';
import { clusterPaths, DEFAULT_CLUSTER_NAME, validateClusterName } from '../cluster/cluster.ts';
import { runAttached } from '../process/run-tool.ts';
import { ToolExit, UsageError } from './errors.ts';

export type LocalTool = 'kubectl' | 'helm';

/** Environment of kubectl and helm run against a local cluster. */
export function localToolEnv(
  kubeconfig: string,
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...env,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(stateDir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(stateDir, 'helm', 'config'),
    HELM_DATA_HOME: join(stateDir, 'helm', 'data'),
  };
}

function selectedCluster(): string {
  try {
    return validateClusterName(process.env['SELECTN_CLUSTER'] ?? DEFAULT_CLUSTER_NAME);
  } catch (error) {
    throw new UsageError(
      `SELECTN_CLUSTER: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function registerLocalTool(program: Command, tool: LocalTool): void {
  program
    .command(tool)
    .description(
      `run ${tool} against the local cluster (cluster: $SELECTN_CLUSTER, default "default"; ${tool} is built on first use)`,
    )
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', `${tool} arguments, passed through unchanged`)
    .action(async (_args: string[], _flags: unknown, command: Command) => {
      const name = selectedCluster();
      const paths = clusterPaths(name);
      if (!existsSync(paths.kubeconfig))
        throw new Error(
          `cluster ${name} has no kubeconfig at ${paths.kubeconfig}; run: selectn cluster up`,
        );
      const bins = await ensureBinaries({
        only: [tool],
        onProgress: (p) => process.stderr.write(`${p.line}\n`),
      });
      const code = await runAttached(bins[tool], command.args, {
        env: localToolEnv(paths.kubeconfig, paths.state),
      });
      if (code !== 0) throw new ToolExit(tool, code);
    });
}

export function registerLocalTools(program: Command): void {
  registerLocalTool(program, 'kubectl');
  registerLocalTool(program, 'helm');
}
