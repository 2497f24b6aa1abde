// The Helm chart: least-privilege RBAC equal to what the code uses, the CRD copy, and `helm lint`
// / `helm template` with the real helm binary once the cluster build has produced it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { binaryPaths } from '../../src/cluster/build.ts';
import { CLUSTER_RULES, LEASE_RULES, type RbacRule } from '../../src/operator/rbac.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { LeaderElector } from '../../src/operator/leader.ts';
import { Reconciler, type StoredDeployment } from '../../src/operator/reconciler.ts';
import { EventRecorder } from '../../src/operator/events.ts';
import type { Pod, Secret, Service, KubeObject } from '../../src/operator/kube/types.ts';
import { FakeApi, FakeCache, stored } from './fixtures.ts';
import { ApiError } from '../../src/operator/errors.ts';
import { paths } from '../../src/operator/kube/client.ts';
import { realClock } from '../../src/operator/queue.ts';
import { TelemetryLoop } from '../../src/operator/telemetry/loop.ts';
import { Autoscaler } from '../../src/operator/autoscaler.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(root, 'charts/selectn-operator');

function rulesOf(kind: string): RbacRule[] {
  const text = readFileSync(join(chart, 'templates/rbac.yaml'), 'utf8')
    .replace(/^\s*\{\{.*\}\}\s*$/gm, '')
    .replace(/\{\{[^}]*\}\}/g, 'x');
  const docs = loadAll(text) as { kind?: string; rules?: RbacRule[] }[];
  return docs.find((d) => d.kind === kind)?.rules ?? [];
}

const norm = (rules: readonly RbacRule[]) =>
  rules
    .map(
      (r) => `${r.apiGroups.join(',')}|${r.resources.join(',')}|${[...r.verbs].sort().join(',')}`,
    )
    .sort();

/** (group|resource, verb) pairs from REST calls, as the API server's authorizer sees them. */
function permission(method: string, path: string): string {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  const group = parts[0] === 'api' ? '' : (parts[1] ?? '');
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const nsIndex = rest[0] === 'namespaces' ? 2 : 0;
  const resource = rest[nsIndex] ?? '';
  const named = rest[nsIndex + 1] !== undefined;
  const sub = rest[nsIndex + 2];
  const verb =
    {
      create: 'create',
      delete: 'delete',
      apply: 'patch',
      replace: 'update',
      get: named ? 'get' : 'list',
      scale: 'patch',
    }[method] ?? method;
  return `${group}|${resource}${sub ? `/${sub}` : ''}|${verb}`;
}

describe('chart RBAC', () => {
  it('grants exactly the rules in src/operator/rbac.ts', () => {
    expect(norm(rulesOf('ClusterRole'))).toEqual(norm(CLUSTER_RULES));
    expect(norm(rulesOf('Role'))).toEqual(norm(LEASE_RULES));
  });

  it('covers every call the reconciler, recorder and elector make, and every granted verb is used', async () => {
    const deployments = new FakeCache<StoredDeployment>();
    const pods = new FakeCache<Pod>();
    const services = new FakeCache<Service>();
    const secrets = new FakeCache<Secret>();
    const api = new FakeApi(pods, services, secrets, deployments);
    deployments.put(stored({ replicas: 2 }));
    const events = new EventRecorder(api, 'me', silentLogger());
    const reconciler = new Reconciler({
      api,
      deployments,
      pods,
      services,
      secrets,
      planner: undefined,
      events,
      options: { localRunner: false },
      now: () => new Date(),
    });
    await reconciler.reconcile('ns/demo', silentLogger());
    const loopCalls: string[] = [];
    // The telemetry loop reads the control token of a deployment with a ready pod.
    const [pod] = pods.list();
    if (!pod) throw new Error('fixture');
    pods.put({
      ...pod,
      status: { podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const loop = new TelemetryLoop(
      {
        deployments,
        pods,
        secrets,
        getSecret: (namespace, name) => {
          loopCalls.push(permission('get', paths.secret(namespace, name)));
          return Promise.resolve({ metadata: { name, namespace }, data: { token: 'dA==' } });
        },
        events,
        onChange: () => undefined,
        clock: realClock,
        log: silentLogger(),
      },
      { periodMs: 1000, timeoutMs: 200, concurrency: 1, dwellMs: 0 },
    );
    await loop.round();
    // The autoscaler moves a resource below its minReplicas up through the scale subresource.
    deployments.put(
      stored(
        { replicas: 1, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 3 } },
        'auto',
      ),
    );
    await new Reconciler({
      api,
      deployments,
      pods,
      services,
      secrets,
      planner: undefined,
      events,
      autoscaler: new Autoscaler(),
      options: { localRunner: false },
      now: () => new Date(),
    }).reconcile('ns/auto', silentLogger());
    const dep = deployments.get('demo', 'ns');
    if (!dep) throw new Error('fixture');
    deployments.put({ ...dep, spec: { ...(dep.spec as object), replicas: 0 } });
    await reconciler.reconcile('ns/demo', silentLogger());
    await new Promise((r) => setTimeout(r, 10));
    const used = new Set([...api.calls.map((c) => permission(c.verb, c.path)), ...loopCalls]);
    // informers list and watch what they cache
    for (const r of ['serving.selectn.dev|selectndeployments', '|pods', '|services', '|secrets']) {
      used.add(`${r}|list`);
      used.add(`${r}|watch`);
    }
    used.add('serving.selectn.dev|selectndeployments|get'); // kubectl-style reads of the resource are not made by code
    used.add('|services|create'); // server-side apply creating the Service is authorized as create
    // the replanner's in-place memory resize (driven in replanner-resize.test.ts) patches this path
    used.add(permission('patch', paths.podResize('ns', 'p')));
    const leaseCalls: string[] = [];
    const leaseApi = {
      get: (p: string) => {
        leaseCalls.push(permission('get', p));
        return Promise.reject(new ApiError(404, 'NotFound', 'no lease'));
      },
      create: (p: string, b: KubeObject) => {
        leaseCalls.push(permission('create', p));
        return Promise.resolve(b);
      },
      replace: (p: string, b: KubeObject) => {
        leaseCalls.push(permission('replace', p));
        return Promise.resolve(b);
      },
    };
    const elector = new LeaderElector(
      leaseApi,
      {
        namespace: 'ns',
        name: 'l',
        identity: 'me',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined },
      silentLogger(),
    );
    elector.start({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    await elector.tick();
    await elector.stop();
    const granted = new Set<string>();
    for (const r of [...CLUSTER_RULES, ...LEASE_RULES])
      for (const g of r.apiGroups)
        for (const res of r.resources) for (const v of r.verbs) granted.add(`${g}|${res}|${v}`);
    for (const u of [...used, ...leaseCalls])
      expect(granted.has(u), `not granted: ${u}`).toBe(true);
    const all = new Set([...used, ...leaseCalls]);
    for (const g of granted) expect(all.has(g), `granted but unused: ${g}`).toBe(true);
  });

  it('ships the generated CRD', () => {
    expect(readFileSync(join(chart, 'crds/selectn.dev_selectndeployments.yaml'), 'utf8')).toBe(
      readFileSync(join(root, 'crds/selectn.dev_selectndeployments.yaml'), 'utf8'),
    );
  });
});

const helm = [process.env['SELECTN_HELM'], binaryPaths().helm].find(
  (p) => p !== undefined && existsSync(p),
);

const KUBE = '1.36.0';

describe.skipIf(helm === undefined)('helm', () => {
  const run = (args: string[]) =>
    spawnSync(helm ?? 'helm', args, {
      encoding: 'utf8',
      env: {
        ...process.env,
        HELM_CACHE_HOME: '/tmp/selectn-helm/cache',
        HELM_CONFIG_HOME: '/tmp/selectn-helm/config',
        HELM_DATA_HOME: '/tmp/selectn-helm/data',
      },
    });

  it('lints the chart', () => {
    const r = run(['lint', chart, '--strict']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('renders a 2-replica leader-elected Deployment running `selectn operator`', () => {
    const r = run([
      'template',
      'sn',
      chart,
      '--namespace',
      'selectn-system',
      '--kube-version',
      KUBE,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const docs = loadAll(r.stdout) as {
      kind?: string;
      spec?: {
        replicas?: number;
        template?: { spec?: { containers?: { command?: string[]; args?: string[] }[] } };
      };
    }[];
    const dep = docs.find((d) => d.kind === 'Deployment');
    expect(dep?.spec?.replicas).toBe(2);
    const c = dep?.spec?.template?.spec?.containers?.[0];
    expect(c?.command).toEqual(['node', 'dist/selectn-operator.mjs', 'operator']);
    expect(c?.args).toContain('--leader-elect');
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('refuses values outside the schema and 2 replicas without leader election', () => {
    const zero = run(['template', 'sn', chart, '--kube-version', KUBE, '--set', 'replicaCount=0']);
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toContain('replicaCount');
    const single = run([
      'template',
      'sn',
      chart,
      '--kube-version',
      KUBE,
      '--set',
      'operator.leaderElect=false',
    ]);
    expect(single.status).not.toBe(0);
    expect(single.stderr).toContain('needs operator.leaderElect');
  });
});
