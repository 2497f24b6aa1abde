// A thin REST client over client-node's KubeConfig (auth, TLS) and its fetch-based HTTP library.
// Every write is server-side apply with the field manager `selectn-operator`, or a plain create
// / delete; errors become ApiError / NetworkError for errorPolicy.
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  PatchStrategy,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../api/index.ts';
import { ApiError, NetworkError } from '../errors.ts';
import type { KubeObject, ObjectList } from './types.ts';

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

/** Counts API requests by verb and outcome; the operator exports it as a metric. */
export type RequestObserver = (verb: string, status: number | 'error') => void;

export class KubeClient {
  private readonly kc: KubeConfig;
  private readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly observe: RequestObserver | undefined;
  /** The connection pool every request goes through (see request()). */
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;

  constructor(kc: KubeConfig, observe?: RequestObserver) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/$/, '');
    this.observe = observe;
  }

  get kubeConfig(): KubeConfig {
    return this.kc;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    // client-node hands every request a new undici Agent: a TLS handshake per request and an
    // idle socket left behind each time (at scale that is most of the operator's CPU and
    // memory). Keep the first one, so connections are pooled and reused like client-go's.
    this.dispatcher ??= ctx.getDispatcher();
    if (this.dispatcher) ctx.setDispatcher(this.dispatcher);
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const response = await this.http.send(ctx).toPromise();
      status = response.httpStatusCode;
      text = await response.body.text();
      retryAfter = response.headers['retry-after'];
    } catch (error) {
      this.observe?.(method, 'error');
      const message = error instanceof Error ? error.message : String(error);
      throw new NetworkError(`${method} ${path}: ${message}`, { cause: error });
    }
    this.observe?.(method, status);
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
    let reason = '';
    let message = text;
    try {
      const body = JSON.parse(text) as { reason?: string; message?: string };
      reason = body.reason ?? '';
      message = body.message ?? text;
    } catch {
      // not a Status object
    }
    const retryAfterS = retryAfter !== undefined ? Number(retryAfter) : undefined;
    throw new ApiError(status, reason, `${method} ${path}: ${status} ${message}`, retryAfterS);
  }

  get<T extends KubeObject>(path: string): Promise<T> {
    return this.request<T>(HttpMethod.GET, path);
  }

  list<T extends KubeObject>(
    path: string,
    query: Record<string, string | undefined> = {},
  ): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>(HttpMethod.GET, path, { query });
  }

  /**
   * Lists a collection in pages of `pageSize`, as client-go's reflector does: the peak is one page
   * of JSON, not the whole collection (2,000 pods are ~20 MB), and `trim` shrinks each item as
   * its page lands. The pages are one consistent snapshot; its resourceVersion is returned.
   */
  async listPaged<T extends KubeObject>(
    path: string,
    query: Record<string, string | undefined>,
    trim: (item: T) => T = (item) => item,
    pageSize = 250,
  ): Promise<ObjectList<T>> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await this.list<T>(path, {
        ...query,
        limit: String(pageSize),
        continue: next,
      });
      for (const item of page.items) items.push(trim(item));
      resourceVersion = page.metadata?.resourceVersion;
      next = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
    } while (next !== undefined);
    return { metadata: resourceVersion === undefined ? {} : { resourceVersion }, items };
  }

  create<T extends KubeObject>(collectionPath: string, body: T): Promise<T> {
    return this.request<T>(HttpMethod.POST, collectionPath, {
      body,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  replace<T extends KubeObject>(path: string, body: T): Promise<T> {
    return this.request<T>(HttpMethod.PUT, path, { body, query: { fieldManager: FIELD_MANAGER } });
  }

  /** Deletes; a precondition on uid keeps us from deleting a recreated namesake. */
  delete(path: string, uid?: string, propagationPolicy = 'Background'): Promise<unknown> {
    const body: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy,
    };
    if (uid !== undefined) body['preconditions'] = { uid };
    return this.request(HttpMethod.DELETE, path, { body });
  }

  /** Sets spec.replicas through the scale subresource (as HPA and `kubectl scale` do). */
  scale(path: string, replicas: number): Promise<unknown> {
    return this.request(HttpMethod.PATCH, path, {
      body: { spec: { replicas } },
      contentType: PatchStrategy.MergePatch,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  /**
   * Sets one container's memory request and limit through the pod's resize subresource (in-place
   * resize, Kubernetes 1.33+); the kubelet applies it and reports it in the pod's status.
   */
  resizeMemory(resizePath: string, container: string, memory: string): Promise<unknown> {
    return this.request(HttpMethod.PATCH, resizePath, {
      body: {
        spec: {
          containers: [
            { name: container, resources: { requests: { memory }, limits: { memory } } },
          ],
        },
      },
      contentType: PatchStrategy.StrategicMergePatch,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  /** Server-side apply of `body` to `path` (an object or its /status), as `selectn-operator`. */
  apply<T extends KubeObject>(path: string, body: T, force = true): Promise<T> {
    return this.request<T>(HttpMethod.PATCH, path, {
      body,
      contentType: PatchStrategy.ServerSideApply,
      query: { fieldManager: FIELD_MANAGER, force: force ? 'true' : undefined },
    });
  }
}

/** REST paths of the kinds the operator touches. */
export const paths = {
  pods: (ns?: string) => (ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods'),
  pod: (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`,
  /** The resize subresource: in-place changes of a running pod's container resources. */
  podResize: (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}/resize`,
  services: (ns?: string) => (ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services'),
  service: (ns: string, name: string) => `/api/v1/namespaces/${ns}/services/${name}`,
  secrets: (ns?: string) => (ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets'),
  secret: (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`,
  leases: (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
  lease: (ns: string, name: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`,
  events: (ns: string) => `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
  deployments: (ns?: string) =>
    ns
      ? `/apis/serving.selectn.dev/v1alpha1/namespaces/${ns}/selectndeployments`
      : '/apis/serving.selectn.dev/v1alpha1/selectndeployments',
  deployment: (ns: string, name: string) =>
    `/apis/serving.selectn.dev/v1alpha1/namespaces/${ns}/selectndeployments/${name}`,
  deploymentStatus: (ns: string, name: string) =>
    `/apis/serving.selectn.dev/v1alpha1/namespaces/${ns}/selectndeployments/${name}/status`,
  deploymentScale: (ns: string, name: string) =>
    `/apis/serving.selectn.dev/v1alpha1/namespaces/${ns}/selectndeployments/${name}/scale`,
} as const;
