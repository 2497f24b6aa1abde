// Unit and property tests of the cluster's pure parts: node shapes, kwok stages, certificates,
// pod IPs, env expansion, container status and back-off. No processes are started here.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { clientCertPaths, ensurePki } from '../../src/cluster/certs.ts';
import { kwokConfigYaml } from '../../src/cluster/kwok-stages.ts';
import {
  DEFAULT_NODE_SHAPE,
  gpuNodeManifest,
  NodeShapeSchema,
  pcieTopology,
} from '../../src/cluster/nodes.ts';
import {
  containerArgv,
  containerEnv,
  expandReferences,
  fieldValue,
} from '../../src/cluster/runner/env.ts';
import { runsWithArgs, spawnDetached, stopRecord } from '../../src/cluster/procs.ts';
import { IpPool, runnerSubnetOctet } from '../../src/cluster/runner/ip-pool.ts';
import { waitFor } from './harness.ts';
import {
  backoffMs,
  podPhase,
  podStatusJson,
  type ContainerView,
  type PodView,
} from '../../src/cluster/runner/status.ts';

describe('fake GPU nodes', () => {
  it('maps GPUs to PCIe switches in groups', () => {
    expect(pcieTopology({ gpus: 8, gpusPerSwitch: 4 })).toEqual({
      '0': 'pcie-0',
      '1': 'pcie-0',
      '2': 'pcie-0',
      '3': 'pcie-0',
      '4': 'pcie-1',
      '5': 'pcie-1',
      '6': 'pcie-1',
      '7': 'pcie-1',
    });
  });

  it('builds a kwok-managed node advertising nvidia.com/gpu and GPU labels', () => {
    const node = gpuNodeManifest(
      'demo',
      { ...DEFAULT_NODE_SHAPE, gpus: 2, gpusPerSwitch: 1 },
      'gpu-node-0',
    );
    expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.status?.capacity?.['nvidia.com/gpu']).toBe('2');
    expect(node.metadata?.labels?.['nvidia.com/gpu.product']).toBe(DEFAULT_NODE_SHAPE.gpuProduct);
    expect(node.metadata?.labels?.['selectn.dev/local-cluster']).toBe('demo');
    expect(JSON.parse(node.metadata?.annotations?.['selectn.dev/pcie-topology'] ?? '')).toEqual({
      '0': 'pcie-0',
      '1': 'pcie-1',
    });
  });

  it('rejects shapes whose GPUs do not divide into switches, and bad quantities', () => {
    expect(
      NodeShapeSchema.safeParse({ ...DEFAULT_NODE_SHAPE, gpus: 3, gpusPerSwitch: 2 }).success,
    ).toBe(false);
    expect(NodeShapeSchema.safeParse({ ...DEFAULT_NODE_SHAPE, memory: 'lots' }).success).toBe(
      false,
    );
    expect(NodeShapeSchema.safeParse(DEFAULT_NODE_SHAPE).success).toBe(true);
  });
});

describe('kwok stages', () => {
  it('leaves every pod labelled selectn.dev/local-runner=true to the runner', () => {
    const docs = loadAll(kwokConfigYaml()) as {
      kind: string;
      metadata: { name: string };
      spec: {
        resourceRef: { kind: string };
        selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
      };
    }[];
    const pods = docs.filter((d) => d.spec.resourceRef.kind === 'Pod');
    expect(pods.map((d) => d.metadata.name).sort()).toEqual([
      'pod-complete',
      'pod-delete',
      'pod-ready',
    ]);
    for (const stage of pods) {
      expect(stage.spec.selector.matchExpressions).toContainEqual({
        key: '.metadata.labels["selectn.dev/local-runner"]',
        operator: 'NotIn',
        values: ['true'],
      });
    }
    expect(docs.filter((d) => d.spec.resourceRef.kind === 'Node')).toHaveLength(2);
  });
});

describe('certificates', () => {
  it('issues a CA-signed chain with the API server SANs and a usable service-account key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-pki-'));
    try {
      const pki = await ensurePki(dir);
      const ca = new X509Certificate(readFileSync(pki.caCert));
      const apiserver = new X509Certificate(readFileSync(pki.apiserverCert));
      expect(apiserver.verify(ca.publicKey)).toBe(true);
      expect(apiserver.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(apiserver.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
      const admin = new X509Certificate(readFileSync(clientCertPaths(dir, 'admin').cert));
      expect(admin.subject).toContain('O=system:masters');
      expect(admin.verify(ca.publicKey)).toBe(true);
      const sig = sign('sha256', Buffer.from('x'), createPrivateKey(readFileSync(pki.saKey)));
      expect(
        verify('sha256', Buffer.from('x'), createPublicKey(readFileSync(pki.saPub)), sig),
      ).toBe(true);
      // Idempotent: a second call keeps the CA.
      await ensurePki(dir);
      expect(readFileSync(pki.caCert, 'utf8')).toBe(ca.toString());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runner pod IPs', () => {
  it('hands out distinct loopback addresses and reuses freed ones only later', () => {
    const pool = new IpPool('demo');
    const octet = runnerSubnetOctet('demo');
    expect(octet).toBeGreaterThanOrEqual(100);
    expect(octet).toBeLessThan(200);
    const a = pool.allocate();
    const b = pool.allocate();
    expect(a).not.toBe(b);
    expect(a.startsWith(`127.${octet}.`)).toBe(true);
    pool.release(a);
    expect(pool.allocate()).not.toBe(a);
    expect(pool.claim(b)).toBe(false);
    expect(pool.claim('10.0.0.1')).toBe(false);
  });

  it('never hands out the same address twice while in use (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (ops) => {
        const pool = new IpPool('prop');
        const held: string[] = [];
        for (const alloc of ops) {
          if (alloc || held.length === 0) {
            const ip = pool.allocate();
            expect(held).not.toContain(ip);
            expect(ip).not.toMatch(/\.(0|255)$/);
            held.push(ip);
          } else {
            pool.release(held.shift() ?? '');
          }
        }
        expect(pool.inUse).toBe(held.length);
      }),
    );
  });
});

const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'x' } },
  spec: {
    nodeName: 'gpu-node-0',
    containers: [{ name: 'main', command: ['node'], args: ['-e', '$(CODE)'] }],
  },
};

describe('container environment', () => {
  it('expands $(VAR), keeps unknown references and unescapes $$', () => {
    expect(expandReferences('a $(X) $(Y) $$(X)', { X: '1' })).toBe('a 1 $(Y) $(X)');
  });

  it('expands to the value for any name and value (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/),
        fc.string(),
        (name, value) => {
          expect(expandReferences(`<$(${name})>`, { [name]: value })).toBe(`<${value}>`);
        },
      ),
    );
  });

  it('resolves fieldRefs, secrets and config maps in order', async () => {
    const container = {
      name: 'main',
      command: ['node'],
      env: [
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'c', key: 'm' } } },
        { name: 'BOTH', value: '$(IP)/$(M)' },
      ],
    };
    const env = await containerEnv(pod, container, { PATH: '/bin' }, '127.100.0.1', '127.0.0.1', {
      getSecret: () => Promise.resolve({ data: { k: Buffer.from('tok').toString('base64') } }),
      getConfigMap: () => Promise.resolve({ data: { m: 'fast' } }),
    });
    expect(env).toEqual({
      PATH: '/bin',
      IP: '127.100.0.1',
      T: 'tok',
      M: 'fast',
      BOTH: '127.100.0.1/fast',
    });
    expect(fieldValue(pod, "metadata.labels['app']", '', '')).toBe('x');
  });

  it('refuses a missing secret, an unsupported field and a container without command', async () => {
    const none = {
      getSecret: () => Promise.resolve(undefined),
      getConfigMap: () => Promise.resolve(undefined),
    };
    const withSecret = {
      name: 'm',
      command: ['x'],
      env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    };
    await expect(containerEnv(pod, withSecret, {}, '', '', none)).rejects.toThrow(
      'secret "s" not found',
    );
    expect(() => fieldValue(pod, 'spec.bogus', '', '')).toThrow('unsupported fieldRef');
    expect(() => containerArgv({ name: 'm' }, {})).toThrow('has no command');
    expect(containerArgv({ name: 'm', command: ['node'], args: ['$(A)'] }, { A: 'x.js' })).toEqual([
      'node',
      'x.js',
    ]);
  });
});

function view(containers: ContainerView[], finished = false): PodView {
  return {
    hostIP: '127.0.0.1',
    podIP: '127.100.0.9',
    startTime: '2026-01-01T00:00:00Z',
    containers,
    finished,
  };
}

const running: ContainerView = {
  name: 'main',
  image: 'i',
  state: { kind: 'running', startedAt: '2026-01-01T00:00:01Z' },
  ready: true,
  started: true,
  restartCount: 0,
};
const exited = (code: number): ContainerView => ({
  ...running,
  ready: false,
  state: {
    kind: 'terminated',
    exitCode: code,
    reason: code === 0 ? 'Completed' : 'Error',
    startedAt: 'a',
    finishedAt: 'b',
  },
});

describe('runner pod status', () => {
  it('derives the phase like the kubelet', () => {
    expect(
      podPhase(
        view([
          { ...running, state: { kind: 'waiting', reason: 'ContainerCreating' }, ready: false },
        ]),
      ),
    ).toBe('Pending');
    expect(podPhase(view([running]))).toBe('Running');
    expect(podPhase(view([exited(0)], true))).toBe('Succeeded');
    expect(podPhase(view([exited(0), exited(2)], true))).toBe('Failed');
    expect(podPhase(view([{ ...exited(1), restartCount: 1 }], false))).toBe('Running');
  });

  it('writes Ready only when all containers are ready and keeps PodScheduled', () => {
    const scheduled: V1Pod = {
      ...pod,
      status: { conditions: [{ type: 'PodScheduled', status: 'True' }] },
    };
    const ready = podStatusJson(scheduled, view([running]), new Date('2026-01-01T00:00:05.123Z'));
    const conditions = ready['conditions'] as {
      type: string;
      status: string;
      lastTransitionTime: string;
    }[];
    expect(conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-01-01T00:00:05Z',
    });
    expect(conditions.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    expect(ready['podIP']).toBe('127.100.0.9');
    const notReady = podStatusJson(
      scheduled,
      view([running, { ...running, name: 'b', ready: false }]),
      new Date(),
    );
    expect(
      (notReady['conditions'] as { type: string; status: string }[]).find((c) => c.type === 'Ready')
        ?.status,
    ).toBe('False');
  });

  it('backs off exponentially with a cap, first restart immediate', () => {
    expect(backoffMs(0, 10_000, 300_000)).toBe(0);
    expect(backoffMs(1, 10_000, 300_000)).toBe(10_000);
    expect(backoffMs(2, 10_000, 300_000)).toBe(20_000);
    expect(backoffMs(10, 10_000, 300_000)).toBe(300_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (n) => {
        expect(backoffMs(n + 1, 10, 5000)).toBeGreaterThanOrEqual(backoffMs(n, 10, 5000));
        expect(backoffMs(n, 10, 5000)).toBeLessThanOrEqual(5000);
      }),
    );
  });
});

describe('component processes', () => {
  it('tells whether a running process has exactly the given flags (cluster up restarts it otherwise)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-procs-'));
    const record = await spawnDetached({
      command: process.execPath,
      args: ['-e', 'setTimeout(() => {}, 30000)', '--', '--cidr=198.18.0.1/16', 'two words'],
      logFile: join(dir, 'p.log'),
      pidFile: join(dir, 'p.pid'),
    });
    try {
      const args = ['-e', 'setTimeout(() => {}, 30000)', '--', '--cidr=198.18.0.1/16', 'two words'];
      expect(runsWithArgs(record.pid, args)).toBe(true);
      expect(
        runsWithArgs(record.pid, [...args.slice(0, 3), '--cidr=127.16.0.1/16', 'two words']),
      ).toBe(false);
      expect(runsWithArgs(record.pid, args.slice(0, 4))).toBe(false);
    } finally {
      await stopRecord(record, 5000);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(runsWithArgs(record.pid, ['-e', 'setTimeout(() => {}, 30000)'])).toBe(false);
  });

  it('names the command and the OS error when a component cannot start, and records no pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-procs-'));
    try {
      const start = spawnDetached({
        command: join(dir, 'kwok'),
        args: ['--config', 'x'],
        logFile: join(dir, 'p.log'),
        pidFile: join(dir, 'p.pid'),
      });
      await expect(start).rejects.toThrow(`\`${join(dir, 'kwok')} --config x\` could not start`);
      await expect(start).rejects.toThrow('ENOENT');
      expect(existsSync(join(dir, 'p.pid'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('test harness waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(
      waitFor('n to reach 3', () => (++n >= 3 ? n : undefined), { intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('fails with what it waited for, the last state and where the logs are', async () => {
    await expect(
      waitFor('the impossible', () => false, {
        timeoutMs: 30,
        intervalMs: 5,
        describe: () => 'state: stuck',
      }),
    ).rejects.toThrow(
      /timed out after 30 ms waiting for the impossible; state: stuck; component logs: .*logs; pod process logs: .*pods/,
    );
    await expect(
      waitFor('a throwing check', () => Promise.reject(new Error('boom')), {
        timeoutMs: 20,
        intervalMs: 5,
      }),
    ).rejects.toThrow('last error: boom');
  });
});
