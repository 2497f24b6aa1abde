// Pure planning of pod creations and deletions: scale to spec.replicas and replace pods of an
// older template by rolling, keeping total pods <= replicas + maxSurge and ready pods >=
// replicas - maxUnavailable (the Deployment controller's rules, on pods directly).

export interface PodView {
  name: string;
  uid: string;
  hash: string | undefined;
  slot: number | undefined;
  ready: boolean;
  /** Has a deletionTimestamp: on its way out, counts for nothing but holds its name. */
  terminating: boolean;
  /** Phase Failed or Succeeded: will never serve again. */
  finished: boolean;
  /** Bound to a node. */
  scheduled: boolean;
}

export interface RolloutSettings {
  replicas: number;
  maxSurge: number | string;
  maxUnavailable: number | string;
}

export const ROLLOUT_REASONS = {
  ScalingUp: 'ScalingUp',
  ScalingDown: 'ScalingDown',
  RollingUpdate: 'RollingUpdate',
  WaitingForPods: 'WaitingForPods',
  Complete: 'Complete',
} as const;
export type RolloutReason = (typeof ROLLOUT_REASONS)[keyof typeof ROLLOUT_REASONS];

export interface RolloutActions {
  /** Slots to create pods of the current template in. */
  create: number[];
  /** Pods to delete (name and uid for a precondition). */
  delete: { name: string; uid: string; why: string }[];
  reason: RolloutReason;
}

/** Resolves an int-or-percent against `total`, rounding up or down. */
export function resolveIntOrPercent(
  value: number | string,
  total: number,
  roundUp: boolean,
): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)%$/.exec(value);
  if (!match) throw new Error(`invalid int-or-percent "${value}"`);
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function surgeAndUnavailable(settings: RolloutSettings): {
  surge: number;
  unavailable: number;
} {
  let surge = resolveIntOrPercent(settings.maxSurge, settings.replicas, true);
  const unavailable = resolveIntOrPercent(settings.maxUnavailable, settings.replicas, false);
  if (surge === 0 && unavailable === 0) surge = 1;
  return { surge, unavailable };
}

/** Deletion preference: unscheduled, then not ready, then highest slot. */
function deletionOrder(a: PodView, b: PodView): number {
  if (a.scheduled !== b.scheduled) return a.scheduled ? 1 : -1;
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  return (
    (b.slot ?? Number.MAX_SAFE_INTEGER) - (a.slot ?? Number.MAX_SAFE_INTEGER) ||
    (a.name < b.name ? 1 : -1)
  );
}

export function planRollout(
  pods: readonly PodView[],
  currentHash: string,
  settings: RolloutSettings,
): RolloutActions {
  const replicas = settings.replicas;
  const { surge, unavailable } = surgeAndUnavailable(settings);
  const del: RolloutActions['delete'] = [];
  const live = pods.filter((p) => !p.terminating);
  for (const p of live.filter((p) => p.finished))
    del.push({ name: p.name, uid: p.uid, why: 'pod finished' });
  const active = live.filter((p) => !p.finished);
  const current = active.filter((p) => p.hash === currentHash && p.slot !== undefined);
  const old = active.filter((p) => !(p.hash === currentHash && p.slot !== undefined));

  // Slots held by any pod of this template, terminating ones included (their names are taken).
  const taken = new Set(
    pods.filter((p) => p.hash === currentHash && p.slot !== undefined).map((p) => p.slot),
  );
  const freeSlots = (n: number): number[] => {
    const out: number[] = [];
    for (let s = 0; out.length < n; s++) if (!taken.has(s)) out.push(s);
    return out;
  };

  if (old.length === 0) {
    if (current.length < replicas) {
      return {
        create: freeSlots(replicas - current.length),
        delete: del,
        reason: ROLLOUT_REASONS.ScalingUp,
      };
    }
    if (current.length > replicas) {
      const extra = [...current].sort(deletionOrder).slice(0, current.length - replicas);
      for (const p of extra) del.push({ name: p.name, uid: p.uid, why: 'scale down' });
      return { create: [], delete: del, reason: ROLLOUT_REASONS.ScalingDown };
    }
    const waiting = current.some((p) => !p.ready) || del.length > 0;
    return {
      create: [],
      delete: del,
      reason: waiting ? ROLLOUT_REASONS.WaitingForPods : ROLLOUT_REASONS.Complete,
    };
  }

  // Rolling replacement.
  const maxTotal = replicas + surge;
  const minAvailable = Math.max(0, replicas - unavailable);
  let total = current.length + old.length;
  let available = active.filter((p) => p.ready).length;
  const toDelete: PodView[] = [];

  // Extra pods of the current template beyond replicas (scaled down mid-rollout).
  if (current.length > replicas) {
    for (const p of [...current].sort(deletionOrder).slice(0, current.length - replicas))
      toDelete.push(p);
  }
  const keptCurrent = current.filter((p) => !toDelete.includes(p));
  total -= toDelete.length;
  available -= toDelete.filter((p) => p.ready).length;

  // Old pods that do not serve cost nothing to remove.
  const oldSorted = [...old].sort(deletionOrder);
  for (const p of oldSorted) {
    if (!p.ready) {
      toDelete.push(p);
      total--;
    }
  }
  // Old ready pods: down to minAvailable, and at least down to maxTotal.
  for (const p of oldSorted) {
    if (!p.ready) continue;
    const overTotal = total > maxTotal;
    if (available - 1 >= minAvailable || overTotal) {
      toDelete.push(p);
      total--;
      available--;
    }
  }
  for (const p of toDelete)
    del.push({
      name: p.name,
      uid: p.uid,
      why: p.hash === currentHash ? 'scale down' : 'replaced by new template',
    });
  const room = Math.max(0, Math.min(replicas - keptCurrent.length, maxTotal - total));
  return { create: freeSlots(room), delete: del, reason: ROLLOUT_REASONS.RollingUpdate };
}
