// The kubelet's admission of an in-place resize (KEP-1287), for the local pod runner: a resize
// whose memory requests, added to those of the node's other pods, exceed the node's allocatable
// memory is Infeasible (PodResizePending, as a kubelet reports it) and the old resources stay
// applied; otherwise the new ones are applied at once (no cgroups to change).
// Pure: the runner reads the node and its pods and passes them in.
import type { V1Node, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { quantityToBytes } from '../../api/index.ts';

export interface ResizeAdmission {
  /** Resources now applied, by container name. */
  applied: Record<string, V1ResourceRequirements>;
  /** Set when the node cannot take the resize. */
  pending?: { reason: 'Infeasible'; message: string };
}

function memoryRequest(r: V1ResourceRequirements | undefined): number {
  const q = r?.requests?.['memory'] ?? r?.limits?.['memory'];
  return q === undefined ? 0 : quantityToBytes(q);
}

/** Memory requests of a pod's containers (as the scheduler and kubelet sum them). */
export function podMemoryRequest(pod: V1Pod): number {
  return (pod.spec?.containers ?? []).reduce((sum, c) => sum + memoryRequest(c.resources), 0);
}

function specResources(pod: V1Pod): Record<string, V1ResourceRequirements> {
  const out: Record<string, V1ResourceRequirements> = {};
  for (const c of pod.spec?.containers ?? []) if (c.resources) out[c.name] = c.resources;
  return out;
}

/** Resources of a pod as it starts: its spec's. */
export function initialAdmission(pod: V1Pod): ResizeAdmission {
  return { applied: specResources(pod) };
}

/**
 * Admits the resize in `pod`'s spec against `node`'s allocatable memory and the memory requests
 * of `others` (the node's other pods that hold resources); `before` stays applied if it does not fit.
 */
export function admitResize(
  pod: V1Pod,
  node: V1Node,
  others: readonly V1Pod[],
  before: ResizeAdmission,
): ResizeAdmission {
  const allocatable = node.status?.allocatable?.['memory'];
  const wanted = podMemoryRequest(pod);
  if (allocatable !== undefined) {
    const capacity = quantityToBytes(allocatable);
    const used = others.reduce((sum, p) => sum + podMemoryRequest(p), 0);
    if (used + wanted > capacity) {
      return {
        applied: before.applied,
        pending: {
          reason: 'Infeasible',
          // The kubelet's wording.
          message: `Node didn't have enough capacity: memory, requested: ${wanted}, capacity: ${capacity - used}`,
        },
      };
    }
  }
  return { applied: specResources(pod) };
}
