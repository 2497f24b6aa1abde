// `npm run image`: builds the CPU container image without a container engine or a registry pull:
// a Debian root filesystem from pinned packages (rootfs.ts), the project's Node 24, the app (src/,
// production dependencies, the bundled operator, the CPU addon), written as an OCI layout and
// archive under dist/images (oci.ts). images/Dockerfile is the same recipe for `docker build`.
//   npm run image [-- --update-lock] [-- --out DIR]
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureNativeAddon } from '../../cli/native-addon.ts';
import { runTool } from '../../process/run-tool.ts';
import { buildOperatorBundle } from '../operator-bundle.ts';
import { packArchive, writeImage, writeLayer, type Layer } from './oci.ts';
import {
  buildBaseRootfs,
  checkSharedLibraries,
  ensureImageTools,
  IMAGE_USER,
  sourceDateEpoch,
} from './rootfs.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const IMAGE_REPOSITORY = 'ghcr.io/selectn/selectn';
/** Where the app lives in the image; the chart's operator command is relative to it. */
export const APP_DIR = '/app';

export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export interface ImageBuildOptions {
  readonly outDir?: string;
  readonly updateLock?: boolean;
  readonly report?: (line: string) => void;
}

export interface ImageBuildResult {
  readonly name: string;
  /** OCI layout folder and the archive packed from it. */
  readonly layout: string;
  readonly archive: string;
  readonly manifestDigest: string;
  readonly layers: readonly Layer[];
  readonly archiveBytes: number;
  readonly debianPackages: readonly string[];
  readonly seconds: number;
}

/** Files dependencies ship that nothing runs: type declarations, source maps, docs. */
const PRUNE = /\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i;

function prune(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && PRUNE.test(entry.name)) {
      rmSync(join(entry.parentPath, entry.name));
      removed++;
    }
  }
  return removed;
}

/** The app layer: /app (package files, src, production node_modules, operator bundle, addon). */
async function buildAppTree(root: string, addon: string, report: (l: string) => void) {
  const app = join(root, APP_DIR.slice(1));
  mkdirSync(join(app, 'dist'), { recursive: true });
  mkdirSync(join(app, 'native', 'build'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) {
    copyFileSync(join(repoRoot, file), join(app, file));
  }
  cpSync(join(repoRoot, 'src'), join(app, 'src'), { recursive: true });
  await buildOperatorBundle({
    outfile: join(app, 'dist', 'selectn-operator.mjs'),
    sourcemap: false,
  });
  copyFileSync(addon, join(app, 'native', 'build', 'selectn.node'));
  report('image: npm ci --omit=dev (production dependencies only)');
  await runTool('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: app,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    tailLines: 30,
  });
  report(`image: pruned ${prune(join(app, 'node_modules'))} declaration, map and doc files`);
  // `selectn` on PATH (the serving pods' command) without a shell or /usr/bin/env in the image.
  const bin = join(root, 'usr', 'local', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'selectn'),
    `#!/usr/local/bin/node\nimport '${APP_DIR}/src/cli/selectn.ts';\n`,
  );
  chmodSync(join(bin, 'selectn'), 0o755);
}

/** The Node binary npm scripts run on: the pinned `node` package, else the running one. */
function nodeBinary(): string {
  const pinned = join(repoRoot, 'node_modules', 'node', 'bin', 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}

/**
 * The CPU image carries an addon built without CUDA, in its own build folder: the normal build
 * links cudart and cuBLAS whenever a toolkit is found, and those libraries belong in the CUDA image.
 */
async function ensureCpuAddon(report: (line: string) => void): Promise<string> {
  const buildDir = join(repoRoot, 'native', 'build-image-cpu');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SELECTN_CUDA: 'OFF',
    SELECTN_BUILD_DIR: buildDir,
    SELECTN_TARGET: 'selectn_node',
  };
  delete env['SELECTN_NATIVE_ADDON'];
  return ensureNativeAddon({ env, onProgress: report, addon: join(buildDir, 'selectn.node') });
}

export async function buildImage(options: ImageBuildOptions = {}): Promise<ImageBuildResult> {
  const started = performance.now();
  const report = options.report ?? (() => undefined);
  const outDir = options.outDir ?? join(repoRoot, 'dist', 'images');
  const version = appVersion();
  const name = `${IMAGE_REPOSITORY}:${version}`;
  const epoch = sourceDateEpoch();
  await ensureImageTools(report);
  const addon = await ensureCpuAddon(report);

  const work = join(outDir, `.work-selectn-${version}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const base = join(work, 'base');
    const debianPackages = await buildBaseRootfs({
      dir: base,
      report,
      ...(options.updateLock ? { updateLock: true } : {}),
    });
    mkdirSync(join(base, 'usr', 'local', 'bin'), { recursive: true });
    copyFileSync(nodeBinary(), join(base, 'usr', 'local', 'bin', 'node'));
    chmodSync(join(base, 'usr', 'local', 'bin', 'node'), 0o755);
    await checkSharedLibraries(base, [
      { path: nodeBinary(), label: 'node' },
      { path: addon, label: 'native/build/selectn.node' },
    ]);

    const appRoot = join(work, 'app');
    await buildAppTree(appRoot, addon, report);

    const layout = join(outDir, `selectn-${version}`);
    rmSync(layout, { recursive: true, force: true });
    report('image: packing layers (tar + gzip)');
    const layers = [
      await writeLayer(layout, base, epoch),
      await writeLayer(layout, appRoot, epoch),
    ];
    const manifest = writeImage(layout, {
      name,
      layers,
      epoch,
      history: [
        `debian ${debianPackages.length} pinned packages (images/debian.lock) + node ${process.version}`,
        'selectn app: src, production node_modules, dist/selectn-operator.mjs, CPU addon',
      ],
      run: {
        User: `${IMAGE_USER}:${IMAGE_USER}`,
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'],
        Entrypoint: ['selectn'],
        Cmd: ['--help'],
        WorkingDir: APP_DIR,
        Labels: {
          'org.opencontainers.image.title': 'selectn',
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.description':
            'Select-N: CLI, operator bundle, OpenAI-compatible server, CPU addon',
        },
      },
    });
    const archive = join(outDir, `selectn-${version}.oci.tar`);
    const archiveBytes = await packArchive(layout, archive, epoch);
    const result: ImageBuildResult = {
      name,
      layout,
      archive,
      manifestDigest: manifest.digest,
      layers,
      archiveBytes,
      debianPackages,
      seconds: (performance.now() - started) / 1000,
    };
    writeFileSync(`${archive}.json`, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const MiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** What `npm run image` prints when done: sizes, and how to load and push the archive. */
export function summary(result: ImageBuildResult): string {
  const unpacked = result.layers.reduce((s, l) => s + l.uncompressedSize, 0);
  const rel = relative(process.cwd(), result.archive) || result.archive;
  const repo = result.name.slice(0, result.name.lastIndexOf(':'));
  const tag = result.name.slice(result.name.lastIndexOf(':') + 1);
  return [
    `built ${result.name} in ${result.seconds.toFixed(0)} s (${result.manifestDigest})`,
    `  archive ${rel}: ${MiB(result.archiveBytes)}; unpacked ${MiB(unpacked)}; layers: ${result.layers
      .map((l) => `${MiB(l.size)} gzip / ${MiB(l.uncompressedSize)}`)
      .join(', ')}`,
    '  load it:',
    `    podman load -i ${rel}`,
    `    docker load -i ${rel}            # Docker 25 or later`,
    '  push it (no daemon needed):',
    `    skopeo copy oci-archive:${rel} docker://REGISTRY/selectn/selectn:${tag}`,
    `  then: helm install selectn charts/selectn-operator --set image.repository=REGISTRY/selectn/selectn`,
    `  (the chart's default image is ${repo}:<appVersion> = ${result.name})`,
  ].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'update-lock': { type: 'boolean' }, out: { type: 'string' } },
  });
  try {
    const result = await buildImage({
      ...(values.out === undefined ? {} : { outDir: values.out }),
      ...(values['update-lock'] ? { updateLock: true } : {}),
      report: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${summary(result)}\n`);
  } catch (error) {
    process.stderr.write(
      `npm run image: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
