// Fixture builders for operator tests: resources, owned pods in any state, fake caches and a
// recording fake API server.
import {
  API_VERSION,
  KIND,
  LABELS,
  SpecSchema,
  type SelectNDeploymentSpecInput,
} from '../../src/api/index.ts';
import type { Pod, KubeObject, Secret, Service } from '../../src/operator/kube/types.ts';
import type { Cache, ReconcilerApi, StoredDeployment } from '../../src/operator/reconciler.ts';
import type { Owner } from '../../src/operator/pod.ts';
import { ApiError } from '../../src/operator/errors.ts';
import { specInput } from '../api/fixtures.ts';

export function owner(spec: Partial<SelectNDeploymentSpecInput> = {}, name = 'demo'): Owner {
  return {
    name,
    namespace: 'ns',
    uid: `uid-${name}`,
    generation: 1,
    spec: SpecSchema.parse(specInput(spec)),
  };
}

export function stored(
  spec: Partial<SelectNDeploymentSpecInput> = {},
  name = 'demo',
  generation = 1,
): StoredDeployment {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation },
    spec: specInput(spec),
  };
}

export interface PodState {
  ready?: boolean;
  terminating?: boolean;
  phase?: string;
  unschedulable?: string;
  crashLoop?: boolean;
  node?: string;
}

/** Marks a built pod as the kubelet / scheduler would. */
export function withState(pod: Pod, state: PodState): Pod {
  const conditions = [];
  if (state.unschedulable !== undefined) {
    conditions.push({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: state.unschedulable,
    });
  } else {
    conditions.push({ type: 'PodScheduled', status: 'True' });
  }
  conditions.push({ type: 'Ready', status: state.ready ? 'True' : 'False' });
  const out: Pod = {
    ...pod,
    metadata: { ...pod.metadata, uid: pod.metadata.uid ?? `uid-${pod.metadata.name ?? ''}` },
    spec: {
      ...pod.spec,
      ...(state.unschedulable === undefined ? { nodeName: state.node ?? 'node-0' } : {}),
    },
    status: {
      phase: state.phase ?? (state.ready ? 'Running' : 'Pending'),
      conditions,
      containerStatuses: state.crashLoop
        ? [
            {
              name: 'serve',
              ready: false,
              restartCount: 5,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error' } },
            },
          ]
        : [],
    },
  };
  if (state.terminating) out.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
  return out;
}

export class FakeCache<T extends KubeObject> implements Cache<T> {
  readonly items = new Map<string, T>();
  get(name: string, namespace: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
  list(namespace?: string): readonly T[] {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata.namespace === namespace,
    );
  }
  put(obj: T): void {
    this.items.set(`${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`, obj);
  }
  remove(name: string, namespace: string): void {
    this.items.delete(`${namespace}/${name}`);
  }
}

export interface Call {
  verb: 'create' | 'delete' | 'apply' | 'scale';
  path: string;
  body?: KubeObject;
}

/**
 * A fake API server over the fake caches: create/delete/apply change the caches immediately
 * (unless `lagging`), refusing duplicate names with AlreadyExists like the real one.
 */
export class FakeApi implements ReconcilerApi {
  readonly calls: Call[] = [];
  lagging = false;
  /** When set, applying a Service fails with it (as a slow, then failing API server would). */
  serviceError: ApiError | undefined;
  private readonly pods: FakeCache<Pod>;
  private readonly services: FakeCache<Service>;
  private readonly secrets: FakeCache<Secret>;
  private readonly deployments: FakeCache<StoredDeployment>;
  private readonly names = new Set<string>();

  constructor(
    pods: FakeCache<Pod>,
    services: FakeCache<Service>,
    secrets: FakeCache<Secret>,
    deployments: FakeCache<StoredDeployment>,
  ) {
    this.pods = pods;
    this.services = services;
    this.secrets = secrets;
    this.deployments = deployments;
  }

  create<T extends KubeObject>(collectionPath: string, body: T): Promise<T> {
    this.calls.push({ verb: 'create', path: collectionPath, body });
    const id = `${collectionPath}/${body.metadata.name ?? ''}`;
    if (this.names.has(id))
      return Promise.reject(new ApiError(409, 'AlreadyExists', `${id} already exists`));
    this.names.add(id);
    const stored = {
      ...body,
      metadata: { ...body.metadata, uid: `uid-${body.metadata.name ?? ''}` },
    };
    if (!this.lagging) {
      if (collectionPath.endsWith('/pods')) this.pods.put(stored);
      if (collectionPath.endsWith('/secrets')) this.secrets.put(stored);
    }
    return Promise.resolve(stored);
  }

  delete(path: string): Promise<unknown> {
    this.calls.push({ verb: 'delete', path });
    const name = path.split('/').pop() ?? '';
    const ns = path.split('/')[4] ?? '';
    const pod = this.pods.get(name, ns);
    if (!pod) return Promise.reject(new ApiError(404, 'NotFound', `${path} not found`));
    this.names.delete(`${path.slice(0, path.lastIndexOf('/'))}/${name}`);
    if (!this.lagging) this.pods.remove(name, ns);
    return Promise.resolve({});
  }

  apply<T extends KubeObject>(path: string, body: T): Promise<T> {
    this.calls.push({ verb: 'apply', path, body });
    if (path.endsWith('/status')) {
      const dep = this.deployments.get(body.metadata.name ?? '', body.metadata.namespace ?? '');
      if (dep)
        this.deployments.put({ ...dep, status: (body as unknown as StoredDeployment).status });
    } else if (path.includes('/services/')) {
      const error = this.serviceError;
      if (error)
        return new Promise((_, reject) => {
          setTimeout(() => {
            reject(error);
          }, 5);
        });
      this.services.put(body);
    }
    return Promise.resolve(body);
  }

  /** Sets spec.replicas of the stored resource, as the scale subresource does. */
  scale(path: string, replicas: number): Promise<unknown> {
    this.calls.push({ verb: 'scale', path });
    const parts = path.split('/');
    const dep = this.deployments.get(parts[7] ?? '', parts[5] ?? '');
    if (!dep) return Promise.reject(new ApiError(404, 'NotFound', `${path} not found`));
    this.deployments.put({ ...dep, spec: { ...(dep.spec as object), replicas } });
    return Promise.resolve({});
  }

  /** Pods of the current state, by template-hash label. */
  podHashes(): string[] {
    return this.pods.list().map((p) => p.metadata.labels?.[LABELS.templateHash] ?? '');
  }
}
