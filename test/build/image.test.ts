// `npm run image` builds the CPU image from pinned Debian packages without a container engine; the
// archive is a valid OCI image, it holds no build tools or dev dependencies, and inside it (its
// layers unpacked, entered with chroot as the image's user) `selectn --version` answers and
// `selectn serve` on the tiny fixture answers a chat completion.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appVersion,
  buildImage,
  type ImageBuildResult,
} from '../../src/build/image/build-image.ts';
import { MEDIA_TYPES } from '../../src/build/image/oci.ts';
import { freePort } from '../../src/cluster/health.ts';

const FIXTURE_MODEL_DIR = join(import.meta.dirname, '..', 'fixtures', 'tiny-llama');
const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((p) => existsSync(p)) ?? 'chroot';
const sha256 = (bytes: Buffer): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Manifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}
interface Config {
  config: { User: string; Entrypoint: string[]; WorkingDir: string };
  rootfs: { diff_ids: string[] };
}

let work: string;
let result: ImageBuildResult;
let layout: string;
let rootfs: string;

/** Runs a command inside the unpacked image as its user, with only the image's environment. */
function inImage(args: readonly string[]): ReturnType<typeof spawnSync> {
  return spawnSync(CHROOT, ['--userspec=65532:65532', rootfs, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production' },
    timeout: 60_000,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'selectn-image-'));
  result = await buildImage({ outDir: join(work, 'out') });
  // Everything below reads the archive only, as a registry or `podman load` would.
  layout = join(work, 'layout');
  rootfs = join(work, 'rootfs');
  for (const dir of [layout, rootfs]) spawnSync('mkdir', ['-p', dir]);
  const untar = spawnSync('tar', ['-xf', result.archive, '-C', layout], { encoding: 'utf8' });
  expect(untar.status, untar.stderr).toBe(0);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const blob = (digest: string): Buffer =>
  readFileSync(join(layout, 'blobs', 'sha256', digest.replace('sha256:', '')));

describe('the CPU image', () => {
  it('is an OCI image named for the chart: layers, digests and config agree', () => {
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    expect(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const [entry] = index.manifests;
    expect(entry?.annotations['io.containerd.image.name']).toBe(
      `ghcr.io/selectn/selectn:${appVersion()}`,
    );
    expect(entry?.annotations['org.opencontainers.image.ref.name']).toBe(appVersion());
    const manifestBytes = blob(entry?.digest ?? '');
    expect(sha256(manifestBytes)).toBe(entry?.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as Manifest;
    const config = JSON.parse(blob(manifest.config.digest).toString()) as Config;
    expect(config.config.User).toBe('65532:65532');
    expect(config.config.Entrypoint).toEqual(['selectn']);
    expect(manifest.layers).toHaveLength(2);
    manifest.layers.forEach((layer, i) => {
      const packed = blob(layer.digest);
      expect(layer.mediaType).toBe(MEDIA_TYPES.layer);
      expect(sha256(packed)).toBe(layer.digest);
      expect(packed.length).toBe(layer.size);
      expect(sha256(gunzipSync(packed))).toBe(config.rootfs.diff_ids[i]);
      const unpack = spawnSync('tar', [
        '-xzf',
        join(layout, 'blobs/sha256', layer.digest.slice(7)),
        '-C',
        rootfs,
      ]);
      expect(unpack.status).toBe(0);
    });
  });

  it('holds the app and its runtime, and no build tools or dev dependencies', () => {
    for (const path of [
      'usr/local/bin/node',
      'usr/local/bin/selectn',
      'app/dist/selectn-operator.mjs',
      'app/native/build/selectn.node',
      'app/node_modules/fastify/package.json',
      'usr/lib/x86_64-linux-gnu/libopenblas.so.0',
    ]) {
      expect(existsSync(join(rootfs, path)), path).toBe(true);
    }
    for (const path of [
      'usr/bin/gcc',
      'usr/bin/cmake',
      'usr/bin/apt-get',
      'bin/sh',
      'app/node_modules/typescript',
      'app/node_modules/vitest',
      'app/node_modules/esbuild',
      'app/test',
    ]) {
      expect(existsSync(join(rootfs, path)), path).toBe(false);
    }
  });

  it('runs selectn --version inside the image', () => {
    const version = inImage(['selectn', '--version']);
    expect(version.stderr).toBe('');
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${appVersion()}\n`);
  });

  it("runs the chart's operator command (the bundled operator) inside the image", () => {
    // The chart runs [node, dist/selectn-operator.mjs, operator] in the working directory /app.
    const help = inImage(['node', '/app/dist/selectn-operator.mjs', 'operator', '--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--server-image <ref>');
  });

  it('serves the tiny fixture inside the image and answers a chat completion', async () => {
    cpSync(FIXTURE_MODEL_DIR, join(rootfs, 'model'), { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', join(rootfs, 'model')]);
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    const port = await freePort();
    const server = spawn(
      CHROOT,
      [
        '--userspec=65532:65532',
        rootfs,
        'selectn',
        'serve',
        '--model',
        '/model',
        '--model-name',
        'tiny-llama',
        '--slo-ttft-ms',
        '5000',
        '--slo-tpot-ms',
        '1000',
        '--device',
        'cpu',
        '--threads',
        '1',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
      ],
      {
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    server.stdout.on('data', (c: Buffer) => (output += c.toString()));
    server.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ready = await fetch(`${base}/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        if (server.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `selectn serve in the image did not become ready:\n${output.slice(-3000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tiny-llama',
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 6,
          temperature: 0,
        }),
      });
      const body = (await response.json()) as {
        choices: { message: { role: string; content: string } }[];
        usage: { completion_tokens: number };
      };
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.choices[0]?.message.role).toBe('assistant');
      expect(body.usage.completion_tokens).toBe(6);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited, output.slice(-2000)).toBe(0);
  }, 180_000);
});
