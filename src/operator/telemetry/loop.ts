// The telemetry half of the slow loop (DESIGN.md section 2): every period, read every ready
// owned pod's GET /v1/selectn/telemetry over HTTP (the control token from the deployment's
// Secret, a deadline per read, a bounded number in flight), mark pods that do not answer stale,
// and publish per deployment the aggregate and per-pod figures. A deployment's key is queued
// only when its published figures change meaningfully, so the status is rewritten only then; the
// reconciler reads the published figures, never the snapshots as they arrive.
import {
  EVENT_REASONS,
  SpecSchema,
  busKey,
  type SelectNDeploymentSpec,
  type TelemetrySnapshot,
  type TelemetryStatus,
} from '../../api/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { EventRecorder } from '../events.ts';
import { keyOf, type Pod, type Secret } from '../kube/types.ts';
import { secretName } from '../pod.ts';
import type { Clock } from '../queue.ts';
import type { Cache, StoredDeployment } from '../reconciler.ts';
import { isPodReady, isTerminating } from '../status.ts';
import {
  aggregateTelemetry,
  podFigures,
  podFiguresChanged,
  telemetryChanged,
  type PodTelemetry,
} from './aggregate.ts';
import { fetchTelemetry, type TelemetryOutcome } from './fetch.ts';
import { busBudgets, type BusMember } from '../bus-budget.ts';
import { forEachLimited } from './limit.ts';
import { Replanner, type PlanRefusal, type ReplanPod } from './replanner.ts';

export interface TelemetryLoopOptions {
  /** Time from the end of one round to the start of the next. */
  periodMs: number;
  /** Deadline of one read. */
  timeoutMs: number;
  /** Reads in flight at once, over all deployments. */
  concurrency: number;
  /** Least time between two plan pushes to one pod. */
  dwellMs: number;
}

export const DEFAULT_TELEMETRY_OPTIONS: TelemetryLoopOptions = {
  periodMs: 5_000,
  timeoutMs: 2_000,
  concurrency: 16,
  dwellMs: 30_000,
};

export interface TelemetryLoopDeps {
  deployments: Cache<StoredDeployment>;
  pods: Cache<Pod>;
  /** Cached Secrets (metadata only): a new resourceVersion means the token must be read again. */
  secrets: Cache<Secret>;
  /** Reads the Secret itself from the API server (the informer cache keeps no data). */
  getSecret(namespace: string, name: string): Promise<Secret>;
  /** One read of one pod; fetchTelemetry unless a test injects another. */
  read?: (baseUrl: string, token: string, timeoutMs: number) => Promise<TelemetryOutcome>;
  /** Re-plans pods from their measurement; default: one with these deps' events and log. */
  replanner?: Replanner;
  /** In-place memory resize of a serving pod (pods/resize); absent: none. */
  resize?: (namespace: string, name: string, memoryBytes: number) => Promise<void>;
  events: EventRecorder | undefined;
  /** Called with a deployment's key when its published figures changed. */
  onChange(key: string): void;
  clock: Clock;
  log: Logger;
}

/** The published figures of one deployment. */
export interface DeploymentTelemetry {
  /** Aggregate over the fresh pods; undefined when none answered. */
  telemetry: TelemetryStatus | undefined;
  /** By pod name: every ready pod polled in the last round. */
  pods: ReadonlyMap<string, PodTelemetry>;
  /** Latest snapshots of the fresh pods, by pod name (for re-planning). */
  snapshots: ReadonlyMap<string, TelemetrySnapshot>;
  /** Pods that keep their old plan: refused re-derived plans, by pod name order. */
  refusals: readonly PlanRefusal[];
}

/** How the reconciler reads the loop. */
export interface TelemetryView {
  /** Undefined until the loop has polled the deployment once. */
  view(key: string): DeploymentTelemetry | undefined;
}

interface Target {
  key: string;
  pod: Pod;
  name: string;
  uid: string;
  url: string;
}

export class TelemetryLoop implements TelemetryView {
  private readonly deps: TelemetryLoopDeps;
  private readonly options: TelemetryLoopOptions;
  private readonly replanner: Replanner;
  private readonly published = new Map<string, DeploymentTelemetry>();
  private readonly tokens = new Map<string, { version: string | undefined; token: string }>();
  /** Pod uids whose invalid telemetry has been reported (once each). */
  private readonly reportedInvalid = new Set<string>();
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(deps: TelemetryLoopDeps, options: TelemetryLoopOptions = DEFAULT_TELEMETRY_OPTIONS) {
    this.deps = deps;
    this.options = options;
    this.replanner =
      deps.replanner ??
      new Replanner(
        {
          events: deps.events,
          log: deps.log,
          now: () => deps.clock.now(),
          ...(deps.resize ? { resize: deps.resize } : {}),
        },
        { dwellMs: options.dwellMs, timeoutMs: options.timeoutMs },
      );
  }

  view(key: string): DeploymentTelemetry | undefined {
    return this.published.get(key);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.round()
        .catch((error: unknown) => {
          this.deps.log.error({ err: error }, 'telemetry round failed');
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.options.periodMs);
        });
    }, delayMs);
  }

  /** One pass over every deployment; public so that tests can drive rounds. */
  async round(): Promise<void> {
    const byDeployment = new Map<string, Target[]>();
    const specs = new Map<string, { dep: StoredDeployment; spec: SelectNDeploymentSpec }>();
    const targets: Target[] = [];
    const alive = new Set<string>();
    for (const dep of this.deps.deployments.list()) {
      if (dep.metadata.deletionTimestamp !== undefined) continue;
      const key = keyOf(dep);
      const parsed = SpecSchema.safeParse(dep.spec);
      if (!parsed.success) continue;
      alive.add(key);
      specs.set(key, { dep, spec: parsed.data });
      const uid = dep.metadata.uid;
      const port = parsed.data.server.port;
      const list: Target[] = [];
      for (const pod of this.deps.pods.list(dep.metadata.namespace)) {
        const ip = pod.status?.podIP;
        if (
          ip === undefined ||
          isTerminating(pod) ||
          !isPodReady(pod) ||
          !pod.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller)
        )
          continue;
        const host = ip.includes(':') ? `[${ip}]` : ip;
        list.push({
          key,
          pod,
          name: pod.metadata.name ?? '',
          uid: pod.metadata.uid ?? '',
          url: `http://${host}:${port}`,
        });
      }
      byDeployment.set(key, list);
    }

    const outcomes = new Map<Target, TelemetryOutcome>();
    const tokenFailures = new Map<string, string>();
    await forEachLimited([...byDeployment], this.options.concurrency, async ([key, list]) => {
      if (list.length === 0) return;
      try {
        await this.token(key);
        targets.push(...list);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        tokenFailures.set(key, `control token: ${message}`);
      }
    });
    await forEachLimited(targets, this.options.concurrency, async (t) => {
      const token = this.tokens.get(t.key)?.token ?? '';
      const outcome = await (this.deps.read ?? fetchTelemetry)(
        t.url,
        token,
        this.options.timeoutMs,
      );
      if (outcome.kind === 'unauthorized') this.tokens.delete(t.key);
      outcomes.set(t, outcome);
    });

    // Bus budgets over every fresh pod of every deployment: pods of different resources on one
    // node share its switches too.
    const members: BusMember[] = [];
    for (const [t, outcome] of outcomes) {
      if (outcome.kind !== 'ok') continue;
      const device = outcome.snapshot.hardware.devices[0];
      const shared = device?.bus?.switchId ?? device?.bus?.rootPortId ?? null;
      members.push({
        pod: `${t.key}|${t.name}`,
        bus:
          shared === null ? null : busKey(outcome.snapshot.hardware.nodeName, device?.bus ?? null),
        demandBytesPerS: outcome.snapshot.bandwidth.demandBytesPerSecond,
        measuredBytesPerS: outcome.snapshot.planning?.copyBandwidthBytesPerSecond ?? 0,
      });
    }
    const budgets = busBudgets(members);
    const refusals = new Map<string, PlanRefusal[]>();
    await forEachLimited([...byDeployment], this.options.concurrency, async ([key, list]) => {
      const token = this.tokens.get(key)?.token;
      const owner = specs.get(key);
      if (token === undefined || owner === undefined) return;
      const fresh: ReplanPod[] = [];
      for (const t of list) {
        const outcome = outcomes.get(t);
        if (outcome?.kind !== 'ok') continue;
        const busBudget = budgets.get(`${t.key}|${t.name}`);
        fresh.push({
          name: t.name,
          uid: t.uid,
          url: t.url,
          snapshot: outcome.snapshot,
          pod: t.pod,
          ...(busBudget ? { busBudget } : {}),
        });
      }
      const { dep, spec } = owner;
      const regarding = {
        name: dep.metadata.name ?? '',
        namespace: dep.metadata.namespace ?? '',
        uid: dep.metadata.uid ?? '',
      };
      refusals.set(
        key,
        await this.replanner.replan(regarding, spec, dep.status?.plan, token, fresh),
      );
    });
    this.replanner.retain(new Set(targets.map((t) => t.uid)));

    for (const [key, list] of byDeployment) {
      const tokenFailure = tokenFailures.get(key);
      const pods = new Map<string, PodTelemetry>();
      const snapshots = new Map<string, TelemetrySnapshot>();
      for (const t of list) {
        const outcome: TelemetryOutcome = outcomes.get(t) ?? {
          kind: 'unreachable',
          message: tokenFailure ?? 'not read',
        };
        if (outcome.kind === 'ok') {
          pods.set(t.name, { figures: podFigures(outcome.snapshot), stale: false });
          snapshots.set(t.name, outcome.snapshot);
          continue;
        }
        pods.set(t.name, { stale: true, staleReason: outcome.message });
        if (outcome.kind === 'invalid') this.reportInvalid(key, t, outcome.message);
        else
          this.deps.log.debug({ deployment: key, pod: t.name, why: outcome.message }, 'pod stale');
      }
      this.publish(key, {
        telemetry: aggregateTelemetry([...snapshots.values()]),
        pods,
        snapshots,
        refusals: refusals.get(key) ?? [],
      });
    }
    for (const key of [...this.published.keys()]) {
      if (!alive.has(key)) {
        this.published.delete(key);
        this.tokens.delete(key);
      }
    }
    const live = new Set(targets.map((t) => t.uid));
    for (const uid of this.reportedInvalid) if (!live.has(uid)) this.reportedInvalid.delete(uid);
  }

  private async token(key: string): Promise<string> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = secretName({ name: key.slice(slash + 1) });
    const version = this.deps.secrets.get(name, namespace)?.metadata.resourceVersion;
    const cached = this.tokens.get(key);
    if (cached && cached.version === version) return cached.token;
    const secret = await this.deps.getSecret(namespace, name);
    const encoded = secret.data?.['token'];
    if (encoded === undefined) throw new Error(`Secret ${namespace}/${name} has no key "token"`);
    const token = Buffer.from(encoded, 'base64').toString('utf8').trim();
    this.tokens.set(key, { version: secret.metadata.resourceVersion ?? version, token });
    return token;
  }

  private reportInvalid(key: string, t: Target, message: string): void {
    if (this.reportedInvalid.has(t.uid)) return;
    this.reportedInvalid.add(t.uid);
    this.deps.log.warn({ deployment: key, pod: t.name, problem: message }, 'invalid telemetry');
    const dep = this.deps.deployments.get(
      key.slice(key.indexOf('/') + 1),
      key.slice(0, key.indexOf('/')),
    );
    const uid = dep?.metadata.uid;
    if (dep === undefined || uid === undefined) return;
    this.deps.events?.emit(
      { name: dep.metadata.name ?? '', namespace: dep.metadata.namespace ?? '', uid },
      'Warning',
      EVENT_REASONS.TelemetryInvalid,
      'Telemetry',
      `pod ${t.name}: telemetry ignored, it fails the schema: ${message}`,
    );
  }

  private publish(key: string, next: DeploymentTelemetry): void {
    const before = this.published.get(key);
    const target = this.target(key);
    const changed =
      before === undefined ||
      telemetryChanged(before.telemetry, next.telemetry, target) ||
      podsChanged(before.pods, next.pods, target) ||
      JSON.stringify(before.refusals) !== JSON.stringify(next.refusals);
    if (!changed) {
      // Keep the published figures (the status shows them) but the freshest snapshots.
      this.published.set(key, { ...before, snapshots: next.snapshots });
      return;
    }
    this.published.set(key, next);
    this.deps.onChange(key);
  }

  private target(key: string): number {
    const slash = key.indexOf('/');
    const dep = this.deps.deployments.get(key.slice(slash + 1), key.slice(0, slash));
    const parsed = SpecSchema.safeParse(dep?.spec);
    return parsed.success ? parsed.data.autoscaling.targetSloAttainment : 0.99;
  }
}

function podsChanged(
  a: ReadonlyMap<string, PodTelemetry>,
  b: ReadonlyMap<string, PodTelemetry>,
  target: number,
): boolean {
  if (a.size !== b.size) return true;
  for (const [name, next] of b) {
    const before = a.get(name);
    if (before === undefined || before.stale !== next.stale) return true;
    if (podFiguresChanged(before.figures, next.figures, target)) return true;
  }
  return false;
}
