// reconcile(key): level-triggered and idempotent. Reads the SelectNDeployment and what it owns
// from the informer caches (never the event that woke it), makes the owned Secret, Service and
// pods match the spec, and writes the whole status once with server-side apply. Returns when to
// look again, or throws a typed error for the work queue's errorPolicy.
import { randomBytes } from 'node:crypto';
import {
  API_VERSION,
  DEGRADED_REASONS,
  EVENT_REASONS,
  KIND,
  LABELS,
  MAX_NAME_LENGTH,
  SpecSchema,
  type Condition,
  type DegradedReason,
  type PlanStatus,
  type PodSummary,
  type SelectNDeploymentStatus,
} from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import { canonicalJson } from './canonical.ts';
import {
  ApiError,
  InvalidSpecError,
  NotReadyError,
  isAlreadyExists,
  isNotFound,
} from './errors.ts';
import type { EventRecorder } from './events.ts';
import { paths } from './kube/client.ts';
import { splitKey, type KubeObject, type Pod, type Secret, type Service } from './kube/types.ts';
import { computePlan, type PlannerPort } from './plan.ts';
import {
  buildPod,
  buildSecret,
  buildService,
  podTemplate,
  secretName,
  selectorString,
  serviceName,
  slotOf,
  type Owner,
  type PodBuildOptions,
} from './pod.ts';
import type { PodTelemetry } from './telemetry/aggregate.ts';
import type { TelemetryView } from './telemetry/loop.ts';
import type { Autoscaler } from './autoscaler.ts';
import type { PlanRefusal } from './telemetry/replanner.ts';
import { planRollout, ROLLOUT_REASONS, type PodView, type RolloutReason } from './rollout.ts';
import {
  computeStatus,
  isFinished,
  isPodReady,
  isTerminating,
  podProblem,
  statusChanged,
} from './status.ts';

/** The SelectNDeployment as stored (spec not yet validated here). */
export interface StoredDeployment extends KubeObject {
  spec?: unknown;
  status?: SelectNDeploymentStatus;
}

export interface Cache<T> {
  get(name: string, namespace: string): T | undefined;
  list(namespace?: string): readonly T[];
}

export interface ReconcilerApi {
  create<T extends KubeObject>(collectionPath: string, body: T): Promise<T>;
  delete(path: string, uid?: string): Promise<unknown>;
  apply<T extends KubeObject>(path: string, body: T): Promise<T>;
  /** Sets spec.replicas through the scale subresource. */
  scale(path: string, replicas: number): Promise<unknown>;
}

export interface ReconcilerDeps {
  api: ReconcilerApi;
  deployments: Cache<StoredDeployment>;
  pods: Cache<Pod>;
  services: Cache<Service>;
  secrets: Cache<Secret>;
  planner: PlannerPort | undefined;
  events: EventRecorder | undefined;
  /** Published figures of the telemetry loop; absent: status keeps what it had. */
  telemetry?: TelemetryView;
  /** The SLO autoscaler's memory; absent: spec.autoscaling is not acted on. */
  autoscaler?: Autoscaler;
  options: PodBuildOptions;
  now: () => Date;
  /** Counters of pod writes (metrics). */
  onPodCreated?: () => void;
  onPodDeleted?: () => void;
}

export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

/** How often a resource whose pods are still changing is looked at without an event. */
export const PROGRESS_RECHECK_MS = 30_000;

/** How often an autoscaled resource is looked at without an event (its windows move on). */
export const AUTOSCALE_RECHECK_MS = 5_000;

export class Reconciler {
  private readonly deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(key: string, log: Logger): Promise<ReconcileOutcome> {
    const { namespace, name } = splitKey(key);
    const dep = this.deps.deployments.get(name, namespace);
    if (!dep) {
      log.debug('resource is gone; owned objects are garbage-collected by owner reference');
      return {};
    }
    if (dep.metadata.deletionTimestamp !== undefined) return {};
    const uid = dep.metadata.uid;
    if (uid === undefined) throw new NotReadyError(`${key} has no uid yet`);
    const generation = dep.metadata.generation ?? 0;
    const regarding = { name, namespace, uid };

    const parsed = SpecSchema.safeParse(dep.spec);
    let specError: { reason: DegradedReason; message: string } | undefined;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      specError = {
        reason: DEGRADED_REASONS.InvalidSpec,
        message: `spec.${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      };
    } else if (name.length > MAX_NAME_LENGTH) {
      specError = {
        reason: DEGRADED_REASONS.InvalidSpec,
        message: `metadata.name: at most ${MAX_NAME_LENGTH} characters`,
      };
    }

    let plan: PlanStatus | undefined = dep.status?.plan;
    if (parsed.success && !specError && plan?.specGeneration !== generation) {
      try {
        plan = computePlan(parsed.data, generation, this.deps.planner, this.deps.now());
        this.deps.events?.emit(
          regarding,
          'Normal',
          EVENT_REASONS.PlanComputed,
          'Plan',
          `${plan.basis}: ${plan.detail}`,
        );
      } catch (error) {
        if (!(error instanceof InvalidSpecError)) throw error;
        specError = { reason: error.reason, message: error.message };
        this.deps.events?.emit(
          regarding,
          'Warning',
          EVENT_REASONS.PlanFailed,
          'Plan',
          error.message,
        );
      }
    }

    const owned = this.deps.pods
      .list(namespace)
      .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller));
    let rollout: RolloutReason | undefined;
    let templateHash = dep.status?.templateHash;
    const replicas = parsed.success ? parsed.data.replicas : 0;

    if (parsed.success && !specError && plan) {
      const owner: Owner = { name, namespace, uid, generation, spec: parsed.data };
      // Pods do not wait for the Service: its ClusterIP allocation takes seconds on a busy API
      // server, and serving pods need only the Secret they mount.
      const serviceDone = this.ensureService(owner).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      await this.ensureSecret(owner);
      const { hash } = podTemplate(owner, plan, this.deps.options);
      templateHash = hash;
      const views = owned.map((p): PodView => {
        const podHash = p.metadata.labels?.[LABELS.templateHash];
        return {
          name: p.metadata.name ?? '',
          uid: p.metadata.uid ?? '',
          hash: podHash,
          slot: slotOf(p, podHash),
          ready: isPodReady(p),
          terminating: isTerminating(p),
          finished: isFinished(p),
          scheduled: p.spec?.nodeName !== undefined,
        };
      });
      const actions = planRollout(views, hash, {
        replicas: parsed.data.replicas,
        maxSurge: parsed.data.rollout.maxSurge,
        maxUnavailable: parsed.data.rollout.maxUnavailable,
      });
      rollout = actions.reason;
      for (const d of actions.delete) {
        try {
          await this.deps.api.delete(paths.pod(namespace, d.name), d.uid);
          this.deps.onPodDeleted?.();
          log.info({ pod: d.name, why: d.why }, 'deleted pod');
        } catch (error) {
          // Gone already, or a namesake with another uid (precondition failed): nothing to do.
          if (!isNotFound(error) && !(error instanceof ApiError && error.status === 409))
            throw error;
        }
      }
      let created = 0;
      // Creates in parallel (each name is fixed, so a retry can never duplicate a pod).
      const results = await Promise.allSettled(
        actions.create.map(async (slot) => {
          const pod = buildPod(owner, plan, slot, this.deps.options);
          await this.deps.api.create(paths.pods(namespace), pod);
          this.deps.onPodCreated?.();
          log.info({ pod: pod.metadata.name }, 'created pod');
        }),
      );
      for (const result of results) {
        if (result.status === 'fulfilled') created++;
        // AlreadyExists: the cache lags behind our own create.
        else if (!isAlreadyExists(result.reason)) throw result.reason;
      }
      if (created > 0) {
        this.deps.events?.emit(
          regarding,
          'Normal',
          EVENT_REASONS.PodCreated,
          'Create',
          `created ${created} pod(s) for template ${hash}`,
        );
      }
      const serviceFailed = await serviceDone;
      if (serviceFailed) throw serviceFailed.error;
      if (actions.delete.length > 0) {
        this.deps.events?.emit(
          regarding,
          'Normal',
          EVENT_REASONS.PodDeleted,
          'Delete',
          `deleted ${actions.delete.map((d) => d.name).join(', ')}`,
        );
      }
    }

    // Before the loop's first round over this resource (e.g. just after a restart) the figures in
    // the status stay as they were.
    const polled = this.deps.telemetry?.view(key);
    const telemetry = polled ? polled.telemetry : dep.status?.telemetry;
    let desiredReplicas = replicas;
    const autoscaling = parsed.success && !specError && parsed.data.autoscaling.enabled;
    if (autoscaling && this.deps.autoscaler) {
      const ready = owned.filter((p) => isPodReady(p) && !isTerminating(p)).length;
      const decision = this.deps.autoscaler.decide(
        key,
        parsed.data,
        ready,
        telemetry,
        this.deps.now().getTime(),
      );
      desiredReplicas = decision.replicas;
      if (decision.replicas !== replicas) {
        // The new spec.replicas comes back through the watch and the next pass makes the pods.
        await this.deps.api.scale(paths.deploymentScale(namespace, name), decision.replicas);
        log.info({ from: replicas, to: decision.replicas, why: decision.reason }, 'autoscaled');
        this.deps.events?.emit(
          regarding,
          'Normal',
          EVENT_REASONS.Autoscaled,
          'Scale',
          `${replicas} -> ${decision.replicas} replicas: ${decision.reason}`,
        );
      }
    } else {
      this.deps.autoscaler?.forget(key);
    }
    const status = computeStatus({
      generation,
      replicas,
      selector: selectorString(name),
      templateHash,
      pods: owned,
      plan,
      rollout,
      specError,
      previous: dep.status?.conditions,
      telemetry,
      desiredReplicas,
      podTelemetry: polled ? polled.pods : previousPodTelemetry(dep.status?.pods),
      planRefusals: polled ? polled.refusals : previousRefusals(dep.status?.conditions),
      sloTarget: parsed.success ? parsed.data.autoscaling.targetSloAttainment : 0.99,
      now: this.deps.now(),
    });
    this.emitProblemEvents(regarding, dep.status?.conditions, status.conditions ?? [], owned);
    if (statusChanged(dep.status, status)) {
      await this.deps.api.apply(paths.deploymentStatus(namespace, name), {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace },
        status,
      });
    }
    if (specError) {
      if (specError.reason === DEGRADED_REASONS.ApiError)
        return { requeueAfterMs: PROGRESS_RECHECK_MS };
      log.info({ problem: specError.message }, 'spec cannot be served; waiting for a change');
      return {};
    }
    if (autoscaling) return { requeueAfterMs: AUTOSCALE_RECHECK_MS };
    const settled = rollout === ROLLOUT_REASONS.Complete;
    return settled ? {} : { requeueAfterMs: PROGRESS_RECHECK_MS };
  }

  private async ensureSecret(owner: Owner): Promise<void> {
    if (this.deps.secrets.get(secretName(owner), owner.namespace)) return;
    try {
      await this.deps.api.create(
        paths.secrets(owner.namespace),
        buildSecret(owner, randomBytes(32).toString('hex')),
      );
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  private async ensureService(owner: Owner): Promise<void> {
    const desired = buildService(owner);
    const current = this.deps.services.get(serviceName(owner), owner.namespace);
    if (current && sameServiceSpec(current, desired)) return;
    await this.deps.api.apply(paths.service(owner.namespace, serviceName(owner)), desired);
  }

  private emitProblemEvents(
    regarding: { name: string; namespace: string; uid: string },
    before: readonly Condition[] | undefined,
    after: readonly Condition[],
    pods: readonly Pod[],
  ): void {
    const was = before?.find((c) => c.type === 'Degraded');
    const now = after.find((c) => c.type === 'Degraded');
    if (!now || now.status !== 'True' || (was?.status === 'True' && was.reason === now.reason))
      return;
    if (
      now.reason === DEGRADED_REASONS.Unschedulable ||
      now.reason === DEGRADED_REASONS.CrashLooping
    ) {
      const reason =
        now.reason === DEGRADED_REASONS.Unschedulable
          ? EVENT_REASONS.Unschedulable
          : EVENT_REASONS.CrashLooping;
      const example = pods.map(podProblem).find((p) => p?.reason === now.reason);
      this.deps.events?.emit(
        regarding,
        'Warning',
        reason,
        'Reconcile',
        example?.message ?? now.message,
      );
    }
  }
}

/** A plan refusal the previous status showed (Degraded PlanRefused), kept until the loop reads. */
function previousRefusals(conditions: readonly Condition[] | undefined): PlanRefusal[] {
  const degraded = conditions?.find((c) => c.type === 'Degraded');
  if (degraded?.reason !== DEGRADED_REASONS.PlanRefused) return [];
  return [{ pod: '', generation: 0, status: 0, code: 'Previous', message: degraded.message }];
}

/** Pod figures as the previous status showed them. */
function previousPodTelemetry(
  pods: readonly PodSummary[] | undefined,
): ReadonlyMap<string, PodTelemetry> {
  const out = new Map<string, PodTelemetry>();
  for (const p of pods ?? []) {
    if (p.telemetryStale === true) out.set(p.name, { stale: true });
    else if (p.bus !== undefined)
      out.set(p.name, {
        stale: false,
        figures: {
          interval: p.interval ?? null,
          sloAttainment: p.sloAttainment ?? null,
          bus: p.bus,
          pciBusId: p.pciBusId ?? null,
          planBasis: p.planBasis ?? '',
          planGeneration: p.planGeneration ?? 0,
          intervalRange: p.intervalRange ?? '',
        },
      });
  }
  return out;
}

function sameServiceSpec(current: Service, desired: Service): boolean {
  const pick = (s: Service) => {
    const spec = (s.spec ?? {}) as {
      selector?: unknown;
      ports?: { name?: string; port?: number; targetPort?: unknown }[];
    };
    return canonicalJson({
      selector: spec.selector,
      ports: (spec.ports ?? []).map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort,
      })),
      owner: current.metadata.ownerReferences?.map((r) => r.uid),
    });
  };
  const want = canonicalJson({
    selector: (desired.spec as { selector?: unknown }).selector,
    ports: (
      (desired.spec as { ports?: { name?: string; port?: number; targetPort?: unknown }[] })
        .ports ?? []
    ).map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort,
    })),
    owner: desired.metadata.ownerReferences?.map((r) => r.uid),
  });
  return pick(current) === want;
}
