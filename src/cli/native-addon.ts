// Builds the native addon (native/build/selectn.node) on first use, so every command that loads it
// (serve, profile, the demo's serving pods) works right after `npm ci`, which builds no native code.
// Concurrent first uses (several serving pods starting at once) wait for one build.
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireFileLock } from '../cluster/lock.ts';
import { cacheRoot } from '../cluster/paths.ts';
import { runTool } from '../process/run-tool.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
/** Where src/runtime loads the addon from unless $SELECTN_NATIVE_ADDON names another file. */
export const DEFAULT_ADDON = join(repoRoot, 'native/build/selectn.node');
const BUILD_SCRIPT = join(repoRoot, 'native/scripts/build.sh');

/** Programs the native build runs, and the Debian package that brings each. */
export const NATIVE_BUILD_TOOLS: readonly { program: string; debianPackage: string }[] = [
  { program: 'cmake', debianPackage: 'cmake' },
  { program: 'c++', debianPackage: 'g++' },
  { program: 'make', debianPackage: 'make' },
];

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** The build tools missing from PATH, as one line naming their Debian packages; else undefined. */
export function missingBuildTools(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Ninja replaces make when present (build.sh picks it).
  const missing = NATIVE_BUILD_TOOLS.filter(
    (t) => !onPath(t.program, env) && !(t.program === 'make' && onPath('ninja', env)),
  );
  if (missing.length === 0) return undefined;
  return (
    `the native build needs ${missing.map((t) => t.program).join(', ')}, not found on PATH; ` +
    `install: sudo apt-get install ${missing.map((t) => t.debianPackage).join(' ')}`
  );
}

export interface EnsureAddonOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines: what is being built and the build's own output. */
  readonly onProgress?: (line: string) => void;
  /** The addon file and the script that builds it (tests point these at a scratch folder). */
  readonly addon?: string;
  readonly buildScript?: string;
}

/**
 * Returns once the addon exists, building it with native/scripts/build.sh when the default one is
 * missing. An addon named by $SELECTN_NATIVE_ADDON is never built here: that path is the user's.
 */
export async function ensureNativeAddon(options: EnsureAddonOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const report = options.onProgress ?? (() => undefined);
  const explicit = env['SELECTN_NATIVE_ADDON'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const addon = options.addon ?? DEFAULT_ADDON;
  if (existsSync(addon)) return addon;
  const missing = missingBuildTools(env);
  if (missing !== undefined) throw new Error(missing);
  const lockDir = cacheRoot(env);
  mkdirSync(lockDir, { recursive: true });
  const release = await acquireFileLock(join(lockDir, 'native-build.lock'), {
    onWait: (pid) => {
      report(`native addon: waiting for the build in process ${pid}`);
    },
  });
  try {
    if (existsSync(addon)) return addon;
    report('native addon: building native/ on first use (npm run build:native; a few minutes)');
    const started = performance.now();
    await runTool('bash', [options.buildScript ?? BUILD_SCRIPT], {
      env,
      onLine: (line) => {
        report(`native addon: ${line}`);
      },
      tailLines: 30,
    });
    if (!existsSync(addon)) throw new Error(`the native build succeeded but wrote no ${addon}`);
    report(`native addon: built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return addon;
  } finally {
    release();
  }
}
