// Kubernetes events (events.k8s.io/v1) about SelectNDeployments, for what users need to know.
// Identical events for one object are sent at most once per dedup window, a few at a time from a
// bounded backlog (a slow API server must not pile up requests); failures are logged and never
// fail a reconcile.
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type EventReason } from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import { paths } from './kube/client.ts';
import { microTime } from './leader.ts';
import type { KubeObject } from './kube/types.ts';

export const REPORTING_CONTROLLER = 'serving.selectn.dev/selectn-operator';

export interface EventSink {
  create(collectionPath: string, body: KubeObject): Promise<unknown>;
}

export interface Regarding {
  name: string;
  namespace: string;
  uid: string;
}

export class EventRecorder {
  private readonly sink: EventSink;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly recent = new Map<string, number>();
  /** Events waiting to be sent; at most MAX_BACKLOG (oldest dropped), MAX_IN_FLIGHT at a time. */
  private readonly backlog: (KubeObject & Record<string, unknown>)[] = [];
  private inFlight = 0;
  dropped = 0;
  static readonly MAX_IN_FLIGHT = 2;
  static readonly MAX_BACKLOG = 1000;

  constructor(
    sink: EventSink,
    instance: string,
    log: Logger,
    now: () => number = Date.now,
    windowMs = 300_000,
  ) {
    this.sink = sink;
    this.instance = instance;
    this.log = log;
    this.now = now;
    this.windowMs = windowMs;
  }

  /** Builds the event object (exposed for tests). */
  build(
    regarding: Regarding,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    action: string,
    note: string,
  ): KubeObject & Record<string, unknown> {
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {
        name: `${regarding.name}.${randomBytes(8).toString('hex')}`,
        namespace: regarding.namespace,
      },
      eventTime: microTime(this.now()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action,
      reason,
      type,
      note: note.slice(0, 1024),
      regarding: {
        apiVersion: API_VERSION,
        kind: KIND,
        name: regarding.name,
        namespace: regarding.namespace,
        uid: regarding.uid,
      },
    };
  }

  emit(
    regarding: Regarding,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    action: string,
    note: string,
  ): void {
    const key = `${regarding.uid}|${reason}|${note}`;
    const now = this.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.windowMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) {
      for (const [k, t] of this.recent) if (now - t >= this.windowMs) this.recent.delete(k);
    }
    this.backlog.push(this.build(regarding, type, reason, action, note));
    if (this.backlog.length > EventRecorder.MAX_BACKLOG) {
      this.backlog.shift();
      this.dropped++;
    }
    this.pump();
  }

  /** Events not sent yet. */
  get pending(): number {
    return this.backlog.length + this.inFlight;
  }

  private pump(): void {
    while (this.inFlight < EventRecorder.MAX_IN_FLIGHT) {
      const event = this.backlog.shift();
      if (!event) return;
      this.inFlight++;
      const namespace = event.metadata.namespace ?? '';
      this.sink
        .create(paths.events(namespace), event)
        .catch((error: unknown) => {
          this.log.warn({ err: error, reason: event['reason'] }, 'could not record event');
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
