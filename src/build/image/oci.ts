// Writes an OCI image layout (image-spec v1.1: oci-layout, index.json, blobs/sha256) from a root
// filesystem folder, and packs it as an OCI archive that `podman load`, `docker load` (25+) and
// `skopeo copy oci-archive:...` take. Layers are reproducible: sorted names, one timestamp, owner
// 0, no atime/ctime, gzip without a name or time; equal folders give equal digests.
import { createHash, type Hash } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { commandLine, runTool, ToolError, whenSpawned } from '../../process/run-tool.ts';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  readonly diffId: string;
  readonly uncompressedSize: number;
}

/** The runtime part of the image config (the keys of image-spec's config.config). */
export interface RunConfig {
  readonly User: string;
  readonly Env: readonly string[];
  readonly Entrypoint: readonly string[];
  readonly Cmd: readonly string[];
  readonly WorkingDir: string;
  readonly Labels: Readonly<Record<string, string>>;
}

/** Counts and hashes what streams through it. */
class Digester extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Tar flags that make an archive depend only on the files' names, contents and modes. */
export function reproducibleTarFlags(epoch: number): string[] {
  return [
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--sort=name',
    `--mtime=@${epoch}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
  ];
}

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/** Packs `rootfs` as one gzip-compressed layer blob of the layout. */
export async function writeLayer(layout: string, rootfs: string, epoch: number): Promise<Layer> {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const entries = readdirSync(rootfs).sort();
  const args = [...reproducibleTarFlags(epoch), '-C', rootfs, '-cf', '-', ...entries];
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await whenSpawned(child, 'tar', args);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  const raw = new Digester();
  const packed = new Digester();
  const tmp = join(layout, 'blobs', `.layer-${process.pid}.partial`);
  await pipeline(child.stdout, raw, createGzip({ level: 6 }), packed, createWriteStream(tmp));
  const code = await exited;
  if (code !== 0) {
    throw new ToolError(commandLine('tar', args), { kind: 'exit', code }, stderr.trim());
  }
  const digest = `sha256:${packed.hash.digest('hex')}`;
  renameSync(tmp, blobPath(layout, digest));
  return {
    mediaType: MEDIA_TYPES.layer,
    digest,
    size: packed.bytes,
    diffId: `sha256:${raw.hash.digest('hex')}`,
    uncompressedSize: raw.bytes,
  };
}

/** Writes a JSON blob (config, manifest) and returns its descriptor. */
function writeJsonBlob(layout: string, mediaType: string, value: unknown): Descriptor {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(layout, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

export interface ImageSpec {
  /** Full reference, e.g. ghcr.io/selectn/selectn:0.1.0. */
  readonly name: string;
  readonly layers: readonly Layer[];
  readonly run: RunConfig;
  readonly epoch: number;
  /** One line per layer for the config's history. */
  readonly history: readonly string[];
}

/** Writes config, manifest, index.json and oci-layout; returns the manifest's descriptor. */
export function writeImage(layout: string, spec: ImageSpec): Descriptor {
  const created = new Date(spec.epoch * 1000).toISOString();
  const config = writeJsonBlob(layout, MEDIA_TYPES.config, {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: spec.run,
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.diffId) },
    history: spec.history.map((created_by) => ({ created, created_by })),
  });
  const manifest = writeJsonBlob(layout, MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config,
    layers: spec.layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    annotations: { 'org.opencontainers.image.created': created },
  });
  const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
  const described: Descriptor = {
    ...manifest,
    annotations: {
      // podman and skopeo read the tag; containerd and docker load read the full name.
      'org.opencontainers.image.ref.name': tag,
      'io.containerd.image.name': spec.name,
    },
  };
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [described] }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return described;
}

/** Packs an OCI layout folder as an OCI archive (a tar of the layout); returns its size. */
export async function packArchive(layout: string, out: string, epoch: number): Promise<number> {
  await runTool('tar', [
    ...reproducibleTarFlags(epoch),
    '-C',
    layout,
    '-cf',
    out,
    'oci-layout',
    'index.json',
    'blobs/sha256',
  ]);
  return statSync(out).size;
}
