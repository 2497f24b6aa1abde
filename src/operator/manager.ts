// Wires the operator: kubeconfig, informers (SelectNDeployments and the pods, services and
// secrets they own; handlers only enqueue keys), the work queue and its workers, leader election,
// periodic resync, and the /healthz, /readyz and /metrics endpoints.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { KIND, LABELS, MANAGED_BY, MOUNT_ROOT_ENV } from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import { errorKind, errorPolicy } from './errors.ts';
import { EventRecorder } from './events.ts';
import { KubeClient, paths } from './kube/client.ts';
import { Informer, withoutManagedFields, type InformerEvent } from './kube/informer.ts';
import { keyOf, type KubeObject, type Pod, type Secret, type Service } from './kube/types.ts';
import { DEFAULT_LEADER_TIMING, LeaderElector } from './leader.ts';
import { OperatorMetrics } from './metrics.ts';
import { CONTAINER_NAME } from './pod.ts';
import type { PlannerPort } from './plan.ts';
import { realClock, WorkQueue, type Clock } from './queue.ts';
import { Autoscaler } from './autoscaler.ts';
import { Reconciler, type StoredDeployment } from './reconciler.ts';
import {
  DEFAULT_TELEMETRY_OPTIONS,
  TelemetryLoop,
  type TelemetryLoopOptions,
} from './telemetry/loop.ts';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Watch only this namespace; all namespaces when unset. */
  namespace?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  metricsPort: number;
  /** Bind address of the metrics/health server. */
  metricsHost?: string;
  localRunner: boolean;
  /** Command of serving containers (default `selectn serve`). */
  serveCommand?: readonly string[];
  /** Image of serving pods whose SelectNDeployment names none (the chart passes its own). */
  serverImage?: string;
  workers: number;
  resyncMs: number;
  identity?: string;
  planner: PlannerPort | undefined;
  /** The telemetry loop's period, read deadline and concurrency. */
  telemetry?: Partial<TelemetryLoopOptions>;
  log: Logger;
  clock?: Clock;
}

/** A pod as cached: what reconcile and status read (metadata, node, phase, conditions, containers). */
export function slimPod(pod: Pod): Pod {
  const { metadata, spec, status } = withoutManagedFields(pod);
  const slim: Pod = { apiVersion: pod.apiVersion, kind: pod.kind, metadata };
  if (spec?.nodeName !== undefined) slim.spec = { nodeName: spec.nodeName };
  // Container resources: the in-place memory resize reads what the pod asks for now.
  const containers = (spec?.['containers'] as { name: string; resources?: unknown }[] | undefined)
    ?.filter((c) => c.resources !== undefined)
    .map((c) => ({ name: c.name, resources: c.resources }));
  if (containers !== undefined && containers.length > 0) slim.spec = { ...slim.spec, containers };
  if (status) {
    slim.status = {};
    for (const key of [
      'phase',
      'podIP',
      'conditions',
      'containerStatuses',
      'reason',
      'message',
    ] as const) {
      if (status[key] !== undefined) Object.assign(slim.status, { [key]: status[key] });
    }
  }
  return slim;
}

/**
 * A Secret as cached: only that it exists and its version. The cache holds no token; the
 * telemetry loop reads the token with a GET when the version changes.
 */
export function slimSecret(secret: Secret): Secret {
  const { metadata } = withoutManagedFields(secret);
  return { apiVersion: secret.apiVersion, kind: secret.kind, metadata };
}

/** Owner key of an owned object: the controller reference to a SelectNDeployment. */
export function ownerKey(obj: KubeObject): string | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === KIND);
  return ref ? `${obj.metadata.namespace ?? ''}/${ref.name}` : undefined;
}

/**
 * --kubeconfig, else in-cluster config, else $KUBECONFIG or ~/.kube/config. In-cluster under the
 * local pod runner, the service-account files live under $SELECTN_MOUNT_ROOT.
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const mountRoot = process.env[MOUNT_ROOT_ENV];
  if (path) kc.loadFromFile(path);
  else if (process.env['KUBERNETES_SERVICE_HOST'] && mountRoot) kc.loadFromCluster(mountRoot);
  else kc.loadFromDefault();
  return kc;
}

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly queue: WorkQueue;
  private readonly options: OperatorOptions;
  private readonly client: KubeClient;
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly deployments: Informer<StoredDeployment>;
  private readonly reconciler: Reconciler;
  readonly telemetry: TelemetryLoop;
  private readonly elector: LeaderElector | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private server: Server | undefined;
  private workersRunning: Promise<void>[] = [];
  private resyncTimer: unknown;
  private leading = false;
  private stopping = false;
  private exit = 0;
  private stoppedResolve: (() => void) | undefined;
  readonly stopped: Promise<void>;
  readonly identity: string;

  constructor(options: OperatorOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.identity =
      options.identity ?? `${process.env['POD_NAME'] ?? hostname()}_${randomUUID().slice(0, 8)}`;
    this.metrics = new OperatorMetrics({ defaultMetrics: true });
    this.queue = new WorkQueue(this.clock, (d) => {
      this.metrics.queueDepth.set(d);
    });
    const kc = loadKubeConfig(options.kubeconfig);
    this.client = new KubeClient(kc, (verb, code) => {
      this.metrics.apiRequests.inc({ verb, code: String(code) });
    });
    this.stopped = new Promise((resolve) => (this.stoppedResolve = resolve));
    const ns = options.namespace;
    const managed = `${LABELS.managedBy}=${MANAGED_BY}`;
    const make = <T extends KubeObject>(
      resource: string,
      path: string,
      labelSelector: string | undefined,
      toKey: (o: T) => string | undefined,
      transform: (o: T) => T,
    ) => {
      const informer = new Informer<T>(kc, {
        resource,
        path,
        labelSelector,
        list: (trim) => this.client.listPaged<T>(path, { labelSelector }, trim),
        onEvent: (event: InformerEvent, obj: T) => {
          this.metrics.watchEvents.inc({ resource, event });
          const key = toKey(obj);
          if (key !== undefined) this.queue.add(key);
        },
        onRestart: () => {
          this.metrics.watchRestarts.inc({ resource });
        },
        clock: this.clock,
        log: this.log,
        transform,
      });
      this.informers.push(informer as unknown as Informer<KubeObject>);
      return informer;
    };
    this.deployments = make<StoredDeployment>(
      'selectndeployments',
      paths.deployments(ns),
      undefined,
      keyOf,
      withoutManagedFields,
    );
    const pods = make<Pod>('pods', paths.pods(ns), managed, ownerKey, slimPod);
    const services = make<Service>(
      'services',
      paths.services(ns),
      managed,
      ownerKey,
      withoutManagedFields,
    );
    const secrets = make<Secret>('secrets', paths.secrets(ns), managed, ownerKey, slimSecret);
    const events = new EventRecorder(this.client, this.identity, this.log);
    this.telemetry = new TelemetryLoop(
      {
        deployments: this.deployments,
        pods,
        secrets,
        getSecret: (namespace, name) => this.client.get<Secret>(paths.secret(namespace, name)),
        resize: async (namespace, name, memoryBytes) => {
          await this.client.resizeMemory(
            paths.podResize(namespace, name),
            CONTAINER_NAME,
            String(memoryBytes),
          );
        },
        events,
        onChange: (key) => {
          this.queue.add(key);
        },
        clock: this.clock,
        log: this.log.child({ loop: 'telemetry' }),
      },
      { ...DEFAULT_TELEMETRY_OPTIONS, ...options.telemetry },
    );
    this.reconciler = new Reconciler({
      api: this.client,
      deployments: this.deployments,
      pods,
      services,
      secrets,
      planner: options.planner,
      events,
      telemetry: this.telemetry,
      autoscaler: new Autoscaler(),
      options: {
        localRunner: options.localRunner,
        ...(options.serveCommand ? { serveCommand: options.serveCommand } : {}),
        ...(options.serverImage ? { serverImage: options.serverImage } : {}),
      },
      now: () => new Date(this.clock.now()),
      onPodCreated: () => {
        this.metrics.podsCreated.inc();
      },
      onPodDeleted: () => {
        this.metrics.podsDeleted.inc();
      },
    });
    if (options.leaderElect) {
      const leaseNamespace = options.leaseNamespace ?? ns ?? podNamespace() ?? 'default';
      this.elector = new LeaderElector(
        this.client,
        {
          namespace: leaseNamespace,
          name: options.leaseName ?? 'selectn-operator',
          identity: this.identity,
          ...DEFAULT_LEADER_TIMING,
        },
        this.clock,
        this.log,
      );
    }
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  /** 0 after a requested stop, 1 after losing leadership. */
  get exitCode(): number {
    return this.exit;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async start(): Promise<void> {
    await this.startServer();
    await Promise.all(this.informers.map((i) => i.start()));
    this.log.info({ identity: this.identity, synced: this.synced }, 'informers started');
    if (this.elector) {
      this.elector.start({
        onStartedLeading: () => {
          this.startLeading();
        },
        onStoppedLeading: () => {
          this.log.error('lost leadership; exiting so that a fresh replica takes over');
          void this.stop(1);
        },
        onNewLeader: (id) => {
          this.log.info({ leader: id }, 'leader is');
        },
      });
    } else {
      this.startLeading();
    }
  }

  private startLeading(): void {
    if (this.leading || this.stopping) return;
    this.leading = true;
    this.metrics.isLeader.set(1);
    for (const d of this.deployments.list()) this.queue.add(keyOf(d));
    for (let i = 0; i < this.options.workers; i++) this.workersRunning.push(this.worker());
    const resync = () => {
      for (const d of this.deployments.list()) this.queue.add(keyOf(d));
      this.resyncTimer = this.clock.setTimeout(resync, this.options.resyncMs);
    };
    this.resyncTimer = this.clock.setTimeout(resync, this.options.resyncMs);
    this.telemetry.start();
    this.log.info({ workers: this.options.workers }, 'reconciling');
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processKey(key);
    }
  }

  /** One reconcile of `key` with metrics, logging and retry bookkeeping; never throws. */
  async processKey(key: string): Promise<void> {
    const reconcileID = randomUUID();
    const slash = key.indexOf('/');
    const log = this.log.child({
      namespace: key.slice(0, slash),
      name: key.slice(slash + 1),
      reconcileID,
    });
    const end = this.metrics.duration.startTimer();
    try {
      if (!this.synced) {
        this.queue.addAfter(key, 1000);
        return;
      }
      const outcome = await this.reconciler.reconcile(key, log);
      this.queue.forget(key);
      if (outcome.requeueAfterMs !== undefined) {
        this.metrics.reconciles.inc({ result: 'requeue_after' });
        this.queue.addAfter(key, outcome.requeueAfterMs);
      } else {
        this.metrics.reconciles.inc({ result: 'success' });
      }
    } catch (error) {
      const failures = this.queue.recordFailure(key);
      const delay = errorPolicy(error, failures);
      this.metrics.errors.inc({ kind: errorKind(error) });
      if (delay === null) {
        this.metrics.reconciles.inc({ result: 'terminal' });
        log.warn({ err: error }, 'reconcile failed; not retrying until the resource changes');
      } else {
        this.metrics.reconciles.inc({ result: 'error' });
        log.warn({ err: error, failures, retryInMs: delay }, 'reconcile failed');
        this.queue.addAfter(key, delay);
      }
    } finally {
      end();
      this.queue.done(key);
    }
  }

  private startServer(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (url === '/readyz') {
        const ready = this.synced;
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ready ? 'ok\n' : 'informers not synced\n');
      } else if (url === '/metrics') {
        this.metrics.registry
          .metrics()
          .then((text) =>
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          )
          .catch((error: unknown) => res.writeHead(500).end(String(error)));
      } else {
        res.writeHead(404).end();
      }
    });
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.metricsPort, this.options.metricsHost ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Port the health/metrics server listens on (after start). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async stop(exitCode = 0): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    this.log.info('stopping');
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    await this.telemetry.stop();
    this.queue.shutdown();
    await Promise.all(this.workersRunning);
    await this.elector?.stop();
    this.metrics.isLeader.set(0);
    await Promise.all(this.informers.map((i) => i.stop()));
    await new Promise<void>((resolve) => {
      if (this.server)
        this.server.close(() => {
          resolve();
        });
      else resolve();
    });
    this.exit = exitCode;
    this.stoppedResolve?.();
    return this.stopped;
  }
}

function podNamespace(): string | undefined {
  return process.env['POD_NAMESPACE'] ?? undefined;
}
