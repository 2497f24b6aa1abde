import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { EventRecorder, REPORTING_CONTROLLER } from '../../src/operator/events.ts';
import type { KubeObject } from '../../src/operator/kube/types.ts';

const regarding = { name: 'demo', namespace: 'ns', uid: 'u1' };

class SlowSink {
  readonly sent: KubeObject[] = [];
  private resolvers: (() => void)[] = [];
  maxConcurrent = 0;
  private current = 0;
  create(_path: string, body: KubeObject): Promise<unknown> {
    this.current++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.current);
    return new Promise((resolve) => {
      this.resolvers.push(() => {
        this.current--;
        this.sent.push(body);
        resolve({});
      });
    });
  }
  releaseAll(): void {
    const r = this.resolvers;
    this.resolvers = [];
    for (const f of r) f();
  }
}

describe('event recorder', () => {
  it('builds events.k8s.io/v1 events about the resource', () => {
    const rec = new EventRecorder(new SlowSink(), 'op-1', silentLogger(), () =>
      Date.UTC(2025, 0, 1),
    );
    const e = rec.build(regarding, 'Warning', 'Unschedulable', 'Reconcile', 'no GPU');
    expect(e).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      reason: 'Unschedulable',
      type: 'Warning',
      note: 'no GPU',
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'op-1',
      eventTime: '2025-01-01T00:00:00.000000Z',
      regarding: { kind: 'SelectNDeployment', name: 'demo', namespace: 'ns', uid: 'u1' },
    });
    expect(e.metadata.name).toMatch(/^demo\.[0-9a-f]{16}$/);
  });

  it('sends identical events once per window and at most two at a time', async () => {
    const sink = new SlowSink();
    let now = 0;
    const rec = new EventRecorder(sink, 'op', silentLogger(), () => now, 1000);
    rec.emit(regarding, 'Normal', 'PodCreated', 'Create', 'same');
    rec.emit(regarding, 'Normal', 'PodCreated', 'Create', 'same');
    for (let i = 0; i < 5; i++) rec.emit(regarding, 'Normal', 'PodCreated', 'Create', `n${i}`);
    expect(rec.pending).toBe(6);
    for (let i = 0; i < 4; i++) {
      sink.releaseAll();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(sink.sent).toHaveLength(6);
    expect(sink.maxConcurrent).toBe(2);
    now = 2000;
    rec.emit(regarding, 'Normal', 'PodCreated', 'Create', 'same');
    expect(rec.pending).toBe(1);
  });

  it('drops the oldest events beyond the backlog bound', () => {
    const sink = new SlowSink();
    const rec = new EventRecorder(sink, 'op', silentLogger());
    for (let i = 0; i < EventRecorder.MAX_BACKLOG + 10; i++)
      rec.emit(regarding, 'Normal', 'PodCreated', 'Create', `e${i}`);
    expect(rec.pending).toBe(EventRecorder.MAX_BACKLOG + EventRecorder.MAX_IN_FLIGHT);
    expect(rec.dropped).toBe(8);
  });
});
