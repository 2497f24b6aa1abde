// Where the cluster keeps things outside git: built binaries and per-cluster state.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ~/.cache/selectn, or $SELECTN_CACHE_DIR, or $XDG_CACHE_HOME/selectn. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['SELECTN_CACHE_DIR'];
  if (explicit) return explicit;
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg || join(homedir(), '.cache'), 'selectn');
}

export function binRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'bin');
}

/** State of one named cluster: pids, logs, certificates, kubeconfig. */
export function clusterStateDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'cluster', name);
}

/** src/cluster/go: the wrapper Go modules that pin each component. */
export const goModulesDir = fileURLToPath(new URL('./go/', import.meta.url));

/** The repository root (for node_modules/.bin/node and relative pod commands). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
