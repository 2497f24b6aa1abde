import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WorkQueue, type Clock } from '../../src/operator/queue.ts';

/** A manual clock: timers fire only when advanced. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}

describe('work queue', () => {
  it('deduplicates keys waiting in the queue', async () => {
    const q = new WorkQueue(new ManualClock());
    q.add('a/x');
    q.add('a/x');
    q.add('a/y');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('a/x');
    expect(await q.get()).toBe('a/y');
  });

  it('never hands out a key that is being processed; re-queues it after done', async () => {
    const q = new WorkQueue(new ManualClock());
    q.add('k');
    const first = await q.get();
    expect(first).toBe('k');
    q.add('k'); // event while processing
    expect(q.depth).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done('k');
    await Promise.resolve();
    expect(second).toBe('k');
  });

  it('delays keys and keeps the earliest of two delayed adds', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock);
    q.addAfter('k', 1000);
    q.addAfter('k', 5000);
    q.addAfter('k', 300);
    clock.advance(299);
    expect(q.depth).toBe(0);
    clock.advance(1);
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('k');
    q.done('k');
    clock.advance(10_000);
    expect(q.depth).toBe(0); // the later timers were replaced, not kept
  });

  it('counts failures per key until forgotten', () => {
    const q = new WorkQueue(new ManualClock());
    expect(q.recordFailure('a')).toBe(1);
    expect(q.recordFailure('a')).toBe(2);
    expect(q.recordFailure('b')).toBe(1);
    q.forget('a');
    expect(q.failuresOf('a')).toBe(0);
    expect(q.failuresOf('b')).toBe(1);
  });

  it('releases waiting workers on shutdown and ignores later adds', async () => {
    const q = new WorkQueue(new ManualClock());
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    q.add('k');
    expect(await q.get()).toBeUndefined();
  });

  it('property: with concurrent workers no key is ever processed twice at once, and every add is seen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 40 }),
        async (adds) => {
          const q = new WorkQueue(new ManualClock());
          const active = new Set<string>();
          const processedAfterAdd = new Map<string, boolean>();
          let violations = 0;
          const worker = async () => {
            for (;;) {
              const key = await q.get();
              if (key === undefined) return;
              if (active.has(key)) violations++;
              active.add(key);
              processedAfterAdd.set(key, true);
              await new Promise((r) => setTimeout(r, 0));
              active.delete(key);
              q.done(key);
            }
          };
          const workers = [worker(), worker(), worker()];
          for (const k of adds) {
            processedAfterAdd.set(k, false);
            q.add(k);
            await new Promise((r) => setTimeout(r, 0));
          }
          while (q.depth > 0 || q.inFlight > 0) await new Promise((r) => setTimeout(r, 0));
          q.shutdown();
          await Promise.all(workers);
          expect(violations).toBe(0);
          for (const seen of processedAfterAdd.values()) expect(seen).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
});
