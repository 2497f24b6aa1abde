// Kubernetes events (events.k8s.io/v1) about SelectNDeployments, for what users need to know.
// Identical events for one object are sent at most once per dedup window; failures are logged
// and never fail a reconcile.
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
    const event = this.build(regarding, type, reason, action, note);
    this.sink.create(paths.events(regarding.namespace), event).catch((error: unknown) => {
      this.log.warn({ err: error, reason }, 'could not record event');
    });
  }
}
