// The pod runner's volume mounts on the local filesystem (no cluster needed for hostPath/emptyDir).
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire: object
   literals are what the runner receives. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { materializeVolumes, type VolumeSources } from '../../src/cluster/runner/volumes.ts';

const sources: VolumeSources = {
  getSecret: () => Promise.resolve(undefined),
  getConfigMap: () => Promise.resolve(undefined),
  requestToken: () => Promise.reject(new Error('no tokens in this test')),
  caPem: '',
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('pod runner volumes', () => {
  it('links a hostPath mounted under an emptyDir mount inside that emptyDir, in any order', async () => {
    const base = mkdtempSync(join(tmpdir(), 'selectn-volumes-'));
    dirs.push(base);
    const model = join(base, 'repo/model');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'config.json'), '{}');
    const pod: V1Pod = {
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        containers: [],
        volumes: [
          { name: 'model', hostPath: { path: model } },
          { name: 'tmp', emptyDir: {} },
        ],
      },
    };
    // The nested mount comes first, as the operator writes them; the parent must not hide it.
    const container: V1Container = {
      name: 'serve',
      volumeMounts: [
        { name: 'model', mountPath: `${base}/repo/model` },
        { name: 'tmp', mountPath: base },
      ],
    };
    const { root } = await materializeVolumes(
      join(base, 'pod'),
      pod,
      [container],
      '127.0.0.2',
      sources,
    );
    expect(existsSync(join(root, base, 'repo/model/config.json'))).toBe(true);
  });
});
