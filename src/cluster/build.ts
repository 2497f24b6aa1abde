// Builds the pinned cluster binaries from their Go modules into ~/.cache/selectn/bin/<name>-<version>/
// and reuses them afterwards. Concurrent builders (CLI, tests) serialize on a lock file.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, type ComponentName, type ComponentSpec } from './versions.ts';
import { binRoot, goModulesDir } from './paths.ts';
import { acquireFileLock } from './lock.ts';
import { runTool, ToolError } from '../process/run-tool.ts';

export type BinaryPaths = Record<ComponentName, string>;

export interface BuildProgress {
  /** One line a person can read, e.g. "[2/7] kube-apiserver v1.36.3: building". */
  readonly line: string;
}

export interface BuildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (progress: BuildProgress) => void;
  /** Parallel Go compile jobs (go build -p); default $SELECTN_BUILD_JOBS or 2. */
  readonly jobs?: number;
  /** Only these components (default all). */
  readonly only?: readonly ComponentName[];
}

export interface BuildRecord {
  readonly name: string;
  readonly version: string;
  readonly seconds: number;
  readonly builtAt: string;
}

export function binaryDir(spec: ComponentSpec, env: NodeJS.ProcessEnv = process.env): string {
  return join(binRoot(env), `${spec.name}-${spec.version}`);
}

export function binaryPath(spec: ComponentSpec, env: NodeJS.ProcessEnv = process.env): string {
  return join(binaryDir(spec, env), spec.name);
}

export function binaryPaths(env: NodeJS.ProcessEnv = process.env): BinaryPaths {
  const paths: Partial<BinaryPaths> = {};
  for (const spec of COMPONENTS) paths[spec.name] = binaryPath(spec, env);
  return paths as BinaryPaths;
}

export function missingComponents(env: NodeJS.ProcessEnv = process.env): ComponentSpec[] {
  return COMPONENTS.filter((spec) => !existsSync(binaryPath(spec, env)));
}

/** Build records (seconds per component) written by earlier builds; used by the benchmark. */
export function readBuildRecords(env: NodeJS.ProcessEnv = process.env): BuildRecord[] {
  const file = join(binRoot(env), 'builds.json');
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return Array.isArray(parsed) ? (parsed as BuildRecord[]) : [];
}

function appendBuildRecord(record: BuildRecord, env: NodeJS.ProcessEnv): void {
  const file = join(binRoot(env), 'builds.json');
  const records = readBuildRecords(env).filter(
    (r) => !(r.name === record.name && r.version === record.version),
  );
  records.push(record);
  writeFileSync(file, JSON.stringify(records, null, 2) + '\n');
}

async function goBuild(
  spec: ComponentSpec,
  out: string,
  jobs: number,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const ldflags = ['-s', '-w', ...spec.versionVars.map((v) => `-X=${v}`)].join(' ');
  const args = [
    'build',
    `-p=${jobs}`,
    '-mod=readonly',
    '-trimpath',
    `-ldflags=${ldflags}`,
    '-o',
    out,
    spec.pkg,
  ];
  const nice = ['/usr/bin/nice', '/bin/nice'].find((p) => existsSync(p));
  const useNice = nice !== undefined;
  const command = nice ?? 'go';
  const argv = useNice ? ['-n', '10', 'go', ...args] : args;
  try {
    await runTool(command, argv, {
      cwd: join(goModulesDir, spec.module),
      env: { ...env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
      tailLines: 40,
    });
  } catch (error) {
    // nice reports a missing go as its own exit 127; either way the fix is the same.
    const noGo =
      error instanceof ToolError &&
      ((error.ending.kind === 'spawn' && !useNice) ||
        (error.ending.kind === 'exit' && error.ending.code === 127));
    const hint = noGo ? " (the Go toolchain, 'go', must be on PATH)" : '';
    throw new Error(
      `building ${spec.name} ${spec.version}${hint}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * Builds every missing binary (in COMPONENTS order) and returns the paths of all of them.
 * Already-built binaries are reused; a second builder waits on the lock and then finds them built.
 */
export async function ensureBinaries(options: BuildOptions = {}): Promise<BinaryPaths> {
  const env = options.env ?? process.env;
  const report = options.onProgress ?? (() => undefined);
  const wanted = new Set<string>(options.only ?? COMPONENTS.map((c) => c.name));
  const jobs = options.jobs ?? Number(env['SELECTN_BUILD_JOBS'] ?? 2);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new Error(`SELECTN_BUILD_JOBS must be a positive integer, got ${String(jobs)}`);
  const todo = () => missingComponents(env).filter((c) => wanted.has(c.name));
  if (todo().length === 0) return binaryPaths(env);

  mkdirSync(binRoot(env), { recursive: true });
  const missing = todo();
  const total = missing.length;
  for (const [index, spec] of missing.entries()) {
    const step = `[${index + 1}/${total}] ${spec.name} ${spec.version}`;
    // One lock per binary: a builder waits only for what it needs, then finds it built.
    const release = await acquireFileLock(join(binRoot(env), `${spec.name}-${spec.version}.lock`), {
      onWait: (holder) => {
        report({ line: `${step}: waiting for another build (pid ${holder})` });
      },
    });
    try {
      if (existsSync(binaryPath(spec, env))) {
        report({ line: `${step}: built by another process` });
        continue;
      }
      report({ line: `${step}: building from ${spec.pkg} (go build -p=${jobs})` });
      const dir = binaryDir(spec, env);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${spec.name}.partial-${process.pid}`);
      const started = performance.now();
      const ticker = setInterval(() => {
        const s = Math.round((performance.now() - started) / 1000);
        report({ line: `${step}: still building (${s}s)` });
      }, 60_000);
      try {
        await goBuild(spec, tmp, jobs, env);
        renameSync(tmp, binaryPath(spec, env));
      } finally {
        clearInterval(ticker);
        rmSync(tmp, { force: true });
      }
      const seconds = (performance.now() - started) / 1000;
      appendBuildRecord(
        { name: spec.name, version: spec.version, seconds, builtAt: new Date().toISOString() },
        env,
      );
      report({ line: `${step}: built in ${seconds.toFixed(1)}s` });
    } finally {
      release();
    }
  }
  return binaryPaths(env);
}
