// The local runner's admission of in-place resizes against the node's allocatable memory.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node types its objects as model classes, but they are plain JSON on the wire. */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  admitResize,
  initialAdmission,
  podMemoryRequest,
} from '../../src/cluster/runner/resize.ts';
import { podStatusJson } from '../../src/cluster/runner/status.ts';

const pod = (name: string, memory: string, generation = 1): V1Pod => ({
  metadata: { name, uid: `uid-${name}`, generation },
  spec: {
    containers: [
      { name: 'serve', resources: { requests: { memory }, limits: { memory } } },
      { name: 'side', resources: { requests: { memory: '1Mi' } } },
    ],
  },
});
const node = (memory: string): V1Node => ({ status: { allocatable: { memory } } });

describe('admitResize', () => {
  it('sums the memory requests of every container', () => {
    expect(podMemoryRequest(pod('a', '2Mi'))).toBe(3 * 2 ** 20);
  });

  it('applies a resize that fits beside the other pods', () => {
    const before = initialAdmission(pod('a', '2Mi'));
    const after = admitResize(pod('a', '4Mi', 2), node('10Mi'), [pod('b', '4Mi')], before);
    expect(after.pending).toBeUndefined();
    expect(after.applied['serve']?.limits?.['memory']).toBe('4Mi');
  });

  it('keeps the old resources and says Infeasible when the node has no room', () => {
    const before = initialAdmission(pod('a', '2Mi'));
    const after = admitResize(pod('a', '6Mi', 2), node('10Mi'), [pod('b', '4Mi')], before);
    expect(after.applied).toBe(before.applied);
    expect(after.pending).toEqual({
      reason: 'Infeasible',
      message: `Node didn't have enough capacity: memory, requested: ${7 * 2 ** 20}, capacity: ${5 * 2 ** 20}`,
    });
  });

  it('status: applied resources, PodResizePending while refused, cleared after', () => {
    const asked = pod('a', '6Mi', 2);
    const refused = admitResize(asked, node('4Mi'), [], initialAdmission(pod('a', '2Mi')));
    const view = {
      hostIP: '127.0.0.1',
      startTime: '2025-01-01T00:00:00Z',
      containers: [],
      finished: false,
      resize: refused,
    };
    const status = podStatusJson(asked, view, new Date());
    const conditions = status['conditions'] as { type: string; reason?: string }[];
    expect(conditions.find((c) => c.type === 'PodResizePending')?.reason).toBe('Infeasible');
    const later = podStatusJson(
      { ...asked, status: { conditions: conditions as never } },
      { ...view, resize: admitResize(asked, node('1Gi'), [], refused) },
      new Date(),
    );
    expect(
      (later['conditions'] as { type: string }[]).some((c) => c.type === 'PodResizePending'),
    ).toBe(false);
  });
});
