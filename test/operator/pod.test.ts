import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SERVER_IMAGE,
  LABELS,
  POD_PATHS,
  SERVE_ENV,
  formatBytes,
  type PlanStatus,
} from '../../src/api/index.ts';
import {
  buildPod,
  buildSecret,
  buildService,
  podTemplate,
  selectorString,
  slotOf,
} from '../../src/operator/pod.ts';
import { computePlan } from '../../src/operator/plan.ts';
import { owner } from './fixtures.ts';

const now = new Date('2025-01-01T00:00:00Z');

function plan(o = owner()): PlanStatus {
  return computePlan(o.spec, o.generation, undefined, now);
}

interface Container {
  env: { name: string; value?: string; valueFrom?: unknown }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  command: string[];
}

function container(pod: ReturnType<typeof buildPod>): Container {
  const containers = (pod.spec as { containers: Container[] }).containers;
  const c = containers[0];
  if (!c) throw new Error('no container');
  return c;
}

function env(c: Container): Record<string, string | undefined> {
  return Object.fromEntries(c.env.map((e) => [e.name, e.value]));
}

describe('pod builder', () => {
  it('names pods <name>-<hash>-<slot> with owner reference and labels', () => {
    const o = owner();
    const p = buildPod(o, plan(o), 3, { localRunner: false });
    const hash = p.metadata.labels?.[LABELS.templateHash] ?? '';
    expect(hash).toMatch(/^[0-9a-z]{8}$/);
    expect(p.metadata.name).toBe(`demo-${hash}-3`);
    expect(slotOf(p, hash)).toBe(3);
    expect(p.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'serving.selectn.dev/v1alpha1',
        kind: 'SelectNDeployment',
        name: 'demo',
        uid: 'uid-demo',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(p.metadata.labels?.[LABELS.deployment]).toBe('demo');
    expect(p.metadata.labels?.[LABELS.localRunner]).toBeUndefined();
    expect(selectorString('demo')).toBe(
      'serving.selectn.dev/deployment=demo,app.kubernetes.io/component=selectn-serve',
    );
  });

  it('marks pods for the local runner by spec or by operator flag', () => {
    const o = owner({ template: { localRunner: true } });
    expect(
      buildPod(o, plan(o), 0, { localRunner: false }).metadata.labels?.[LABELS.localRunner],
    ).toBe('true');
    const p = owner();
    expect(
      buildPod(p, plan(p), 0, { localRunner: true }).metadata.labels?.[LABELS.localRunner],
    ).toBe('true');
  });

  it('requests GPUs by resource name and memory = baseline + planned host memory', () => {
    const o = owner({
      resources: {
        gpu: { count: 2, resourceName: 'example.com/gpu' },
        memory: '4Gi',
        cpu: '1500m',
      },
      offload: { hostMemoryLimit: '6Gi' },
    });
    const c = container(buildPod(o, plan(o), 0, { localRunner: false }));
    const want = { cpu: '1500m', memory: String(10 * 2 ** 30), 'example.com/gpu': '2' };
    expect(c.resources.requests).toEqual(want);
    expect(c.resources.limits).toEqual(want);
  });

  it('adds the device memory of the CPU backend to the pod memory', () => {
    const o = owner({
      server: { device: 'cpu', deviceMemory: '1Gi' },
      resources: { memory: '1Gi' },
    });
    expect(
      container(buildPod(o, plan(o), 0, { localRunner: false })).resources.limits['memory'],
    ).toBe(String(2 * 2 ** 30));
  });

  it('runs restricted: non-root, no escalation, no capabilities, RuntimeDefault seccomp, read-only root', () => {
    const o = owner();
    const p = buildPod(o, plan(o), 0, { localRunner: false });
    const c = container(p);
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect((p.spec as { securityContext: Record<string, unknown> }).securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect((p.spec as { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(
      false,
    );
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.command).toEqual(['selectn', 'serve']);
  });

  it('mounts the model, the control token and a writable /tmp', () => {
    const o = owner({
      model: { name: 'm', source: { pvc: { claimName: 'models' }, subPath: 'llama/13b' } },
    });
    const p = buildPod(o, plan(o), 0, { localRunner: false });
    const c = container(p);
    expect(c.volumeMounts).toEqual([
      { name: 'model', mountPath: '/models', readOnly: true },
      { name: 'control', mountPath: POD_PATHS.controlDir, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(env(c)[SERVE_ENV.model.name]).toBe('/models/llama/13b');
    const volumes = (p.spec as { volumes: Record<string, unknown>[] }).volumes;
    expect(volumes[0]).toEqual({
      name: 'model',
      persistentVolumeClaim: { claimName: 'models', readOnly: true },
    });
    expect(volumes[1]).toMatchObject({ secret: { secretName: 'demo-control' } });
  });

  it('mounts a hostPath model at its own path (the local runner sees the same path)', () => {
    const o = owner();
    const c = container(buildPod(o, plan(o), 0, { localRunner: false }));
    expect(c.volumeMounts[0]).toEqual({
      name: 'model',
      mountPath: '/models/tiny-llama',
      readOnly: true,
    });
    expect(env(c)[SERVE_ENV.model.name]).toBe('/models/tiny-llama');
  });

  it('sets the documented SELECTN_* variables for SLO and plan', () => {
    const o = owner({
      offload: { mode: 'fixed', interval: { min: 4, max: 4 }, hostMemoryLimit: '2Gi' },
      slo: { ttftMs: 300, tpotMs: 40 },
    });
    const c = container(buildPod(o, plan(o), 0, { localRunner: false }));
    const e = env(c);
    expect(e['SELECTN_SLO_TTFT_MS']).toBe('300');
    expect(e['SELECTN_SLO_TPOT_MS']).toBe('40');
    expect(e['SELECTN_SLO_PERCENTILE']).toBe('99');
    expect(e['SELECTN_INTERVAL_MIN']).toBe('4');
    expect(e['SELECTN_INTERVAL_MAX']).toBe('4');
    expect(e['SELECTN_HOST_MEMORY']).toBe(String(2 * 2 ** 30));
    expect(e['SELECTN_POLICY']).toBe('fixed-n-4');
    expect(e['SELECTN_CONTROL_TOKEN_FILE']).toBe('/var/run/selectn/control/token');
    expect(e['SELECTN_PORT']).toBe('8000');
    const documented = new Set(Object.values(SERVE_ENV).map((d) => d.name));
    for (const v of c.env) expect(documented.has(v.name), v.name).toBe(true);
    for (const doc of Object.values(SERVE_ENV))
      if (doc.always)
        expect(
          c.env.some((v) => v.name === doc.name),
          doc.name,
        ).toBe(true);
  });

  it('passes node selector, tolerations, affinity, priority class, labels and annotations through', () => {
    const o = owner({
      resources: { gpu: { product: 'a100-40gb' } },
      template: {
        nodeSelector: { zone: 'a' },
        tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        priorityClassName: 'high',
        labels: { team: 'x' },
        annotations: { note: 'y' },
      },
    });
    const p = buildPod(o, plan(o), 0, { localRunner: false });
    const spec = p.spec as Record<string, unknown>;
    expect(spec['nodeSelector']).toEqual({ zone: 'a' });
    expect(spec['tolerations']).toEqual([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec['affinity']).toEqual({ nodeAffinity: {} });
    expect(spec['priorityClassName']).toBe('high');
    expect(p.metadata.labels?.['team']).toBe('x');
    expect(p.metadata.annotations?.['note']).toBe('y');
  });

  it('runs on GPU nodes as a real cluster needs: runtime class, pull secrets, GPU limits', () => {
    const o = owner({
      resources: { gpu: { count: 2, product: 'h100-80gb' } },
      server: { image: 'registry.example.com/selectn/selectn-cuda:0.1.0' },
      template: {
        runtimeClassName: 'nvidia',
        imagePullSecrets: [{ name: 'regcred' }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
    const p = buildPod(o, plan(o), 0, { localRunner: false, serverImage: 'other/image:1' });
    const spec = p.spec as Record<string, unknown>;
    expect(spec['runtimeClassName']).toBe('nvidia');
    expect(spec['imagePullSecrets']).toEqual([{ name: 'regcred' }]);
    const c = container(p) as Container & { image: string };
    expect(c.image).toBe('registry.example.com/selectn/selectn-cuda:0.1.0');
    expect(c.resources.limits['nvidia.com/gpu']).toBe('2');
    const plain = buildPod(owner(), plan(owner()), 0, { localRunner: false });
    expect(plain.spec).not.toHaveProperty('runtimeClassName');
    expect(plain.spec).not.toHaveProperty('imagePullSecrets');
  });

  it("takes the operator's server image (the chart's) when the deployment names none", () => {
    const o = owner();
    expect(o.spec.server.image).toBeUndefined();
    const image = (options: Parameters<typeof buildPod>[3]) =>
      (container(buildPod(o, plan(o), 0, options)) as Container & { image: string }).image;
    expect(image({ localRunner: false, serverImage: 'registry.example.com/selectn:0.2.0' })).toBe(
      'registry.example.com/selectn:0.2.0',
    );
    expect(image({ localRunner: false })).toBe(DEFAULT_SERVER_IMAGE);
  });

  it('changes the template hash when the SLO changes, not when replicas do', () => {
    const base = owner();
    const h = (o: ReturnType<typeof owner>) => podTemplate(o, plan(o), { localRunner: false }).hash;
    expect(h(owner({ replicas: 7 }))).toBe(h(base));
    expect(h(owner({ slo: { ttftMs: 501, tpotMs: 50 } }))).not.toBe(h(base));
  });

  it('builds a Service for the pods and a Secret with the token', () => {
    const o = owner();
    const s = buildService(o);
    expect(s.metadata.name).toBe('demo');
    expect(s.spec).toMatchObject({
      selector: { 'serving.selectn.dev/deployment': 'demo' },
      ports: [{ port: 8000, targetPort: 'http' }],
    });
    const secret = buildSecret(o, 'tok');
    expect(secret.metadata.name).toBe('demo-control');
    expect(Buffer.from(secret.data?.['token'] ?? '', 'base64').toString()).toBe('tok');
    expect(formatBytes(plan(o).podMemoryBytes)).toBe('4Gi');
  });
});
