// The image's base root filesystem: Debian packages (glibc, libstdc++, OpenBLAS for the CPU addon)
// unpacked by mmdebstrap from Debian's own mirror at the versions pinned in images/debian.lock, so
// two builds from one lock get the same files and no registry image is pulled. Only unpacked
// (mmdebstrap's "extract" variant): no shell, no package manager, no maintainer scripts; what those
// would have set up and the image needs (the OpenBLAS library link, a user) is written here.
// Debian's loader searches the multiarch library folders without an ld.so.cache.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from '../../process/run-tool.ts';

export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
/** What the CPU image needs at run time beyond Node itself (the addon links OpenBLAS and OpenMP);
 * checkSharedLibraries names what is missing when the addon starts needing more. */
export const BASE_PACKAGES = [
  'libc6',
  'libgcc-s1',
  'libstdc++6',
  'libopenblas0-pthread',
  'libgomp1',
] as const;
export const DEBIAN_LOCK = fileURLToPath(new URL('../../../images/debian.lock', import.meta.url));
/** The non-root user the chart and the serving pods run as. */
export const IMAGE_USER = 65532;

/** A program the image build runs, and the Debian package that brings it. */
export interface BuildTool {
  readonly program: string;
  readonly debianPackage: string;
}

export const IMAGE_BUILD_TOOLS: readonly BuildTool[] = [
  { program: 'mmdebstrap', debianPackage: 'mmdebstrap' },
  { program: 'tar', debianPackage: 'tar' },
];

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, program)));
}

export function missingImageTools(env: NodeJS.ProcessEnv = process.env): BuildTool[] {
  return IMAGE_BUILD_TOOLS.filter((t) => !onPath(t.program, env));
}

/** One line naming each missing tool and the command that installs it. */
export function missingToolsMessage(missing: readonly BuildTool[]): string {
  return (
    `the image build needs ${missing.map((t) => t.program).join(', ')}, not found on PATH; ` +
    `install: sudo apt-get install ${missing.map((t) => t.debianPackage).join(' ')}`
  );
}

/**
 * Installs the missing build tools from Debian as the project's scripts install everything else
 * (root only; otherwise the error says what to install). Progress goes to `report`.
 */
export async function ensureImageTools(report: (line: string) => void): Promise<void> {
  const missing = missingImageTools();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(missingToolsMessage(missing));
  const packages = missing.map((t) => t.debianPackage);
  report(`image: installing ${packages.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', ...packages];
  try {
    await runTool('apt-get', install, { env });
  } catch {
    // A fresh machine may have no package lists yet.
    await runTool('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { env });
    await runTool('apt-get', install, { env });
  }
}

/** Pinned `name=version` lines of images/debian.lock (comments and blank lines skipped). */
export function readLock(file = DEBIAN_LOCK): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Parses a .deb file name (name_version_arch.deb, version URL-quoted) into `name=version`. */
export function pinOfDebFile(file: string): string | undefined {
  const match = /^([^_]+)_([^_]+)_[^_]+\.deb$/.exec(file);
  if (!match?.[1] || !match[2]) return undefined;
  return `${match[1]}=${decodeURIComponent(match[2])}`;
}

export interface RootfsOptions {
  readonly dir: string;
  /** Resolve the newest versions in the mirror and rewrite the lock instead of using it. */
  readonly updateLock?: boolean;
  readonly report: (line: string) => void;
}

/** Unpacks the pinned Debian packages into `dir` (which must not exist) and returns the pins. */
export async function buildBaseRootfs(options: RootfsOptions): Promise<string[]> {
  const pinned = options.updateLock ? [] : readLock();
  if (!options.updateLock && pinned.length === 0) {
    throw new Error(`${DEBIAN_LOCK} is missing or empty; run: npm run image -- --update-lock`);
  }
  const include = pinned.length > 0 ? pinned : [...BASE_PACKAGES];
  const listing = `${options.dir}.debs`;
  options.report(
    `image: unpacking ${include.length} Debian ${DEBIAN_SUITE} packages (mmdebstrap --variant=extract)`,
  );
  try {
    await runTool(
      'mmdebstrap',
      [
        '--variant=extract',
        // root when run as root, else a user namespace.
        '--mode=auto',
        `--include=${include.join(',')}`,
        // The .deb files apt fetched, i.e. the full resolved set, for the lock.
        `--extract-hook=ls "$1/var/cache/apt/archives" > ${JSON.stringify(listing)}`,
        '--format=directory',
        DEBIAN_SUITE,
        options.dir,
        DEBIAN_MIRROR,
      ],
      { env: { ...process.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch()) }, tailLines: 30 },
    );
  } catch (error) {
    const hint = options.updateLock
      ? ''
      : '\n(a pinned version that left the mirror after a Debian point release shows up as ' +
        '"has no installation candidate"; refresh the pins with: npm run image -- --update-lock)';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${hint}`, {
      cause: error,
    });
  }
  const resolved = readFileSync(listing, 'utf8')
    .split('\n')
    .map((f) => pinOfDebFile(f.trim()))
    .filter((p): p is string => p !== undefined)
    .sort();
  if (options.updateLock) {
    writeFileSync(
      DEBIAN_LOCK,
      `# Debian ${DEBIAN_SUITE} packages of the selectn image, pinned (npm run image -- --update-lock)\n` +
        `# from: ${BASE_PACKAGES.join(' ')}\n${resolved.join('\n')}\n`,
    );
  }
  finishRootfs(options.dir);
  return resolved;
}

/** What maintainer scripts and base-passwd would have done, as far as the image needs it. */
function finishRootfs(dir: string): void {
  const lib = join(dir, 'usr/lib/x86_64-linux-gnu');
  // update-alternatives' libopenblas.so.0 -> the pthread variant.
  const openblas = join(lib, 'libopenblas.so.0');
  if (!existsSync(openblas)) symlinkSync('openblas-pthread/libopenblas.so.0', openblas);
  writeFileSync(
    join(dir, 'etc/passwd'),
    `root:x:0:0:root:/root:/usr/sbin/nologin\nselectn:x:${IMAGE_USER}:${IMAGE_USER}:selectn:/app:/usr/sbin/nologin\n`,
  );
  writeFileSync(join(dir, 'etc/group'), `root:x:0:\nselectn:x:${IMAGE_USER}:\n`);
  mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o1777 });
}

/** Fixed timestamp of every file in the image (reproducible layers): $SOURCE_DATE_EPOCH or 0. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`SOURCE_DATE_EPOCH must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const LIBRARY_DIRS = [
  'lib/x86_64-linux-gnu',
  'usr/lib/x86_64-linux-gnu',
  'lib64',
  'lib',
  'usr/lib',
];

/** The Debian package that ships a library on this machine, for the error message. */
async function hostPackageOf(path: string): Promise<string | undefined> {
  for (const candidate of [path, `/usr${path}`]) {
    try {
      const { stdout } = await runTool('dpkg-query', ['-S', candidate]);
      return stdout.split(':')[0]?.trim();
    } catch {
      // not owned by a package under this name (usrmerge moves /lib to /usr/lib)
    }
  }
  return undefined;
}

/**
 * Checks that every shared library the given binaries load (as ldd resolves them here) is in the
 * root filesystem, so that a new dependency of the addon fails the build, not the serving pod.
 */
export async function checkSharedLibraries(
  rootfs: string,
  binaries: readonly { readonly path: string; readonly label: string }[],
): Promise<void> {
  const problems: string[] = [];
  for (const binary of binaries) {
    const { stdout } = await runTool('ldd', [binary.path]);
    for (const line of stdout.split('\n')) {
      const match = /^\s*(\S+\.so[^\s]*) => (\S+)/.exec(line);
      if (!match?.[1] || !match[2]) continue;
      const [, soname, hostPath] = match;
      if (LIBRARY_DIRS.some((dir) => existsSync(join(rootfs, dir, soname)))) continue;
      const pkg = hostPath === 'not' ? undefined : await hostPackageOf(hostPath);
      problems.push(`${soname} (needed by ${binary.label}${pkg ? `; Debian package ${pkg}` : ''})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `the image lacks ${problems.join(', ')}: add the package to BASE_PACKAGES in ` +
        'src/build/image/rootfs.ts, then run: npm run image -- --update-lock',
    );
  }
}
