// What a pod says about the memory of its serving container and any in-place resize of it, read
// as the kubelet reports it (KEP-1287, GA in 1.35): spec resources are what was asked for through
// the pods/resize subresource, status.containerStatuses[].allocatedResources / resources what the
// node applied, and the PodResizePending / PodResizeInProgress conditions where it stands.
// Pure: no I/O.
import { quantityToBytes } from '../api/index.ts';
import type { Pod } from './kube/types.ts';

/** Where a memory resize of the pod stands. */
export type ResizeState =
  /** Spec and status agree: nothing asked for is outstanding. */
  | { kind: 'settled' }
  /** Asked for, not applied yet (kubelet working on it, or not reported yet). */
  | { kind: 'in-progress'; message: string }
  /** The node will not apply it (Infeasible), or not now (Deferred), or applying it failed. */
  | { kind: 'refused'; reason: string; message: string };

export interface PodMemory {
  /** Memory limit in the pod spec (the last resize asked for, or the one it was created with). */
  specBytes: number;
  /** Memory limit the node applied (status); equals specBytes on a node not reporting it yet. */
  appliedBytes: number;
  resize: ResizeState;
}

export class PodResizeReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodResizeReadError';
  }
}

interface Resources {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

function memoryOf(resources: Resources | undefined, where: string): number | undefined {
  const q = resources?.limits?.['memory'] ?? resources?.requests?.['memory'];
  if (q === undefined) return undefined;
  try {
    return quantityToBytes(q);
  } catch (error) {
    throw new PodResizeReadError(
      `${where}: memory ${JSON.stringify(q)} is not a quantity (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The serving container's memory and resize state; undefined when it has no memory limit. */
export function podMemory(pod: Pod, container: string): PodMemory | undefined {
  const spec = pod.spec as { containers?: { name: string; resources?: Resources }[] } | undefined;
  const name = pod.metadata.name ?? '?';
  const specBytes = memoryOf(
    spec?.containers?.find((c) => c.name === container)?.resources,
    `pod ${name} spec container ${container}`,
  );
  if (specBytes === undefined) return undefined;
  // ContainerStatus types only what the rest of the operator reads; these fields are on the wire.
  const status = pod.status?.containerStatuses?.find((s) => s.name === container) as
    { resources?: Resources; allocatedResources?: Record<string, string> } | undefined;
  // resources.limits is what the runtime enforces; allocatedResources only carries requests.
  const applied =
    memoryOf(status?.resources, `pod ${name} status container ${container}`) ??
    memoryOf(
      status?.allocatedResources ? { requests: status.allocatedResources } : undefined,
      `pod ${name} status container ${container} allocatedResources`,
    );
  const conditions = pod.status?.conditions ?? [];
  const pending = conditions.find((c) => c.type === 'PodResizePending' && c.status === 'True');
  const progress = conditions.find((c) => c.type === 'PodResizeInProgress' && c.status === 'True');
  let resize: ResizeState;
  if (pending) {
    resize = {
      kind: 'refused',
      reason: pending.reason ?? 'Pending',
      message: pending.message ?? 'the node has not admitted the resize',
    };
  } else if (progress?.reason === 'Error') {
    resize = {
      kind: 'refused',
      reason: 'Error',
      message: progress.message ?? 'the node failed to apply the resize',
    };
  } else if (progress || (applied !== undefined && applied !== specBytes)) {
    resize = {
      kind: 'in-progress',
      message: progress?.message ?? `spec ${specBytes} bytes, applied ${applied ?? specBytes}`,
    };
  } else {
    resize = { kind: 'settled' };
  }
  return { specBytes, appliedBytes: applied ?? specBytes, resize };
}
