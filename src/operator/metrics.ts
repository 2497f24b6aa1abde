// Prometheus metrics of the operator itself (selectn_operator_*), on their own registry, with
// every labelled series zeroed at start so that dashboards see them before the first event.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const RECONCILE_RESULTS = ['success', 'requeue_after', 'error', 'terminal'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];
export const ERROR_KINDS = [
  'invalid_spec',
  'not_ready',
  'network',
  'conflict',
  'throttled',
  'server',
  'client',
  'unknown',
] as const;
export const WATCHED = ['selectndeployments', 'pods', 'services', 'secrets'] as const;

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly errors: Counter<'kind'>;
  readonly duration: Histogram;
  readonly queueDepth: Gauge;
  readonly watchRestarts: Counter<'resource'>;
  readonly watchEvents: Counter<'resource' | 'event'>;
  readonly apiRequests: Counter<'verb' | 'code'>;
  readonly isLeader: Gauge;
  readonly podsCreated: Counter;
  readonly podsDeleted: Counter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'selectn_operator_reconciles_total',
      help: 'Reconciles by result.',
      labelNames: ['result'],
      registers,
    });
    this.errors = new Counter({
      name: 'selectn_operator_reconcile_errors_total',
      help: 'Reconcile errors by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.duration = new Histogram({
      name: 'selectn_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'selectn_operator_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'selectn_operator_watch_restarts_total',
      help: 'Informer restarts after a failed list or watch.',
      labelNames: ['resource'],
      registers,
    });
    this.watchEvents = new Counter({
      name: 'selectn_operator_watch_events_total',
      help: 'Informer events by resource and type.',
      labelNames: ['resource', 'event'],
      registers,
    });
    this.apiRequests = new Counter({
      name: 'selectn_operator_api_requests_total',
      help: 'Kubernetes API requests by verb and status code.',
      labelNames: ['verb', 'code'],
      registers,
    });
    this.isLeader = new Gauge({
      name: 'selectn_operator_leader',
      help: '1 while this replica holds the lease.',
      registers,
    });
    this.podsCreated = new Counter({
      name: 'selectn_operator_pods_created_total',
      help: 'Pods created.',
      registers,
    });
    this.podsDeleted = new Counter({
      name: 'selectn_operator_pods_deleted_total',
      help: 'Pods deleted.',
      registers,
    });
    for (const r of RECONCILE_RESULTS) this.reconciles.inc({ result: r }, 0);
    for (const k of ERROR_KINDS) this.errors.inc({ kind: k }, 0);
    for (const w of WATCHED) {
      this.watchRestarts.inc({ resource: w }, 0);
      for (const e of ['add', 'update', 'delete'])
        this.watchEvents.inc({ resource: w, event: e }, 0);
    }
    this.queueDepth.set(0);
    this.isLeader.set(0);
    if (options.defaultMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'selectn_operator_' });
  }
}
