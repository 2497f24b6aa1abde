// Leader election on a coordination.k8s.io/v1 Lease, written by hand (client-go's algorithm):
// the holder renews every retry period; others take over once the record has not changed for a
// lease duration as observed on their own clock (no trust in clock sync); updates carry the
// resourceVersion, so of two candidates only one wins. On shutdown the leader releases the lease
// so that a standby takes over at its next retry.
import type { Logger } from '../log/logger.ts';
import { ApiError } from './errors.ts';
import { paths } from './kube/client.ts';
import type { Lease } from './kube/types.ts';
import type { Clock } from './queue.ts';

export interface LeaderSettings {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_TIMING = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

/** What the elector last saw: the record and when (local clock) it last changed. */
export interface Observation {
  record: string;
  atMs: number;
}

export type LeaderAction =
  | { kind: 'create' }
  | { kind: 'renew' }
  | { kind: 'takeover' }
  | { kind: 'follow'; holder: string; expiresInMs: number };

function recordOf(lease: Lease): string {
  const s = lease.spec ?? {};
  return `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${s.leaseTransitions ?? 0}`;
}

/** Pure decision: what to do with the lease as read now. Returns the updated observation. */
export function decideLeader(
  lease: Lease | undefined,
  identity: string,
  previous: Observation | undefined,
  nowMs: number,
  defaultDurationMs: number,
): { action: LeaderAction; observation: Observation | undefined } {
  if (!lease) return { action: { kind: 'create' }, observation: undefined };
  const record = recordOf(lease);
  const observation = previous?.record === record ? previous : { record, atMs: nowMs };
  const holder = lease.spec?.holderIdentity ?? '';
  if (holder === identity) return { action: { kind: 'renew' }, observation };
  if (holder === '') return { action: { kind: 'takeover' }, observation };
  const durationMs = (lease.spec?.leaseDurationSeconds ?? defaultDurationMs / 1000) * 1000;
  const expiresInMs = observation.atMs + durationMs - nowMs;
  if (expiresInMs <= 0) return { action: { kind: 'takeover' }, observation };
  return { action: { kind: 'follow', holder, expiresInMs }, observation };
}

/** MicroTime as the API server wants it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaseApi {
  get(path: string): Promise<Lease>;
  create(collectionPath: string, body: Lease): Promise<Lease>;
  replace(path: string, body: Lease): Promise<Lease>;
}

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly settings: LeaderSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private observation: Observation | undefined;
  private current: Lease | undefined;
  private leading = false;
  private lastRenewMs = 0;
  private stopped = false;
  private timer: unknown;
  private lastHolder = '';
  private callbacks: LeaderCallbacks | undefined;

  constructor(api: LeaseApi, settings: LeaderSettings, clock: Clock, log: Logger) {
    this.api = api;
    this.settings = settings;
    this.clock = clock;
    this.log = log.child({
      lease: `${settings.namespace}/${settings.name}`,
      identity: settings.identity,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(callbacks: LeaderCallbacks): void {
    this.callbacks = callbacks;
    void this.tick();
  }

  /** One round: read, decide, write. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.round();
    } catch (error) {
      this.log.warn({ err: error }, 'leader election round failed');
    }
    if (this.leading && this.clock.now() - this.lastRenewMs > this.settings.renewDeadlineMs) {
      this.log.error('could not renew the lease within the renew deadline; stepping down');
      this.leading = false;
      this.callbacks?.onStoppedLeading();
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), this.settings.retryPeriodMs);
  }

  private async round(): Promise<void> {
    const { namespace, name, identity, leaseDurationMs } = this.settings;
    let lease: Lease | undefined;
    try {
      lease = await this.api.get(paths.lease(namespace, name));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    const now = this.clock.now();
    const { action, observation } = decideLeader(
      lease,
      identity,
      this.observation,
      now,
      leaseDurationMs,
    );
    this.observation = observation;
    const holder = lease?.spec?.holderIdentity ?? '';
    if (holder !== this.lastHolder && holder !== '') {
      this.lastHolder = holder;
      this.callbacks?.onNewLeader?.(holder);
    }
    if (action.kind === 'follow') {
      if (this.leading) {
        this.leading = false;
        this.log.warn({ holder: action.holder }, 'lost the lease to another holder');
        this.callbacks?.onStoppedLeading();
      }
      return;
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewTime: microTime(now),
      acquireTime:
        action.kind === 'renew' ? (lease?.spec?.acquireTime ?? microTime(now)) : microTime(now),
      leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (action.kind === 'takeover' ? 1 : 0),
    };
    try {
      if (action.kind === 'create') {
        this.current = await this.api.create(paths.leases(namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { ...spec, leaseTransitions: 0 },
        });
      } else {
        this.current = await this.api.replace(paths.lease(namespace, name), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...(lease?.metadata ?? {}), name, namespace },
          spec,
        });
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        this.log.debug('lease changed under us; another candidate won this round');
        return;
      }
      throw error;
    }
    this.lastRenewMs = now;
    if (!this.leading) {
      this.leading = true;
      this.lastHolder = identity;
      this.log.info({ action: action.kind }, 'became leader');
      this.callbacks?.onStartedLeading();
    }
  }

  /** Stop electing; if leading, release the lease (holder cleared) so a standby takes over fast. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (!this.leading || !this.current) return;
    this.leading = false;
    const { namespace, name } = this.settings;
    try {
      await this.api.replace(paths.lease(namespace, name), {
        ...this.current,
        spec: {
          ...this.current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.clock.now()),
        },
      });
      this.log.info('released the lease');
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the lease');
    }
  }
}
