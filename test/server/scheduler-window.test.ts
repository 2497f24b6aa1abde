// The scheduler with a sliding window: blocks wholly before every future query's window go back to
// the pool as a request advances (block table entries RELEASED_KV_BLOCK), so a request generating
// far past the window holds a bounded number of blocks and fits a pool that could never hold its
// whole context; reservations count at most the window plus one block.
import { describe, expect, it } from 'vitest';
import { RELEASED_KV_BLOCK, type SeqWork } from '../../src/server/engine-port.ts';
import { Scheduler } from '../../src/server/scheduler/scheduler.ts';
import type { NewRequest, RequestOutput } from '../../src/server/scheduler/request.ts';
import {
  DeterministicExecutor,
  GREEDY,
  LinearPolicy,
  ManualClock,
  TestKvPool,
  type LinearModel,
} from './fixtures/deterministic.ts';

const model: LinearModel = {
  baseMs: 2,
  perTokenMs: 0.05,
  perContextMs: 0.001,
  copyMsPerLayer: 1,
  numLayers: 16,
};

interface Run {
  kv: TestKvPool;
  sched: Scheduler;
  executed: SeqWork[];
  /** Most blocks in use at once (after each schedule). */
  mostUsed: number;
  outputs: RequestOutput[];
}

async function run(opts: {
  blocks: number;
  blockSize: number;
  budget: number;
  window?: number;
  requests: NewRequest[];
}): Promise<Run> {
  const clock = new ManualClock();
  const kv = new TestKvPool(opts.blocks, opts.blockSize);
  const exec = new DeterministicExecutor(clock, kv, model, 1024);
  const policy = new LinearPolicy(model, [1], 1e9, 1e9);
  const sched = new Scheduler(kv, policy, clock, {
    maxNumSeqs: 8,
    maxNumBatchedTokens: opts.budget,
    maxModelLen: 1024,
    ...(opts.window !== undefined ? { slidingWindow: opts.window } : {}),
  });
  for (const r of opts.requests) sched.addRequest(r);
  const out: Run = { kv, sched, executed: [], mostUsed: 0, outputs: [] };
  for (let i = 0; sched.hasUnfinished(); i++) {
    if (i > 10_000) throw new Error('no progress');
    const step = sched.schedule(exec.status());
    if (step === null) {
      if (sched.hasUnfinished()) throw new Error('scheduler stalled');
      break;
    }
    out.mostUsed = Math.max(out.mostUsed, kv.totalBlocks() - kv.freeBlocks());
    out.executed.push(...step.seqs);
    const result = await exec.execute({ interval: step.interval, seqs: step.seqs });
    out.outputs.push(...sched.updateFromOutput(step, result));
  }
  return out;
}

function request(id: string, promptLength: number, maxTokens: number): NewRequest {
  return {
    id,
    promptTokenIds: Array.from({ length: promptLength }, (_, i) => (i * 7) % 100),
    maxTokens,
    sampling: GREEDY,
    stopTokenIds: [],
    arrivalMs: 0,
  };
}

describe('Scheduler with a sliding window', () => {
  it('generates far past the window in a pool that holds only the window plus one block', async () => {
    // Window 6, blocks of 4: ceil(6 / 4) + 1 = 3 blocks at most; 5 + 300 tokens need 77 blocks.
    const windowed = await run({
      blocks: 3,
      blockSize: 4,
      budget: 64,
      window: 6,
      requests: [request('a', 5, 300)],
    });
    const last = windowed.outputs.at(-1);
    expect(last?.completionTokens).toBe(300);
    expect(last?.finishReason).toBe('length');
    expect(windowed.mostUsed).toBeLessThanOrEqual(3);
    expect(windowed.kv.freeBlocks()).toBe(3);

    // The same request without the window: the pool is its context limit.
    const full = await run({
      blocks: 3,
      blockSize: 4,
      budget: 64,
      requests: [request('a', 5, 300)],
    });
    expect(full.outputs.at(-1)?.completionTokens).toBeLessThan(10);
  });

  it('passes released blocks as RELEASED_KV_BLOCK, only those wholly before the window', async () => {
    // A prompt of 21 tokens in chunks of 4 (prefill past the window too), then decodes.
    const r = await run({
      blocks: 16,
      blockSize: 4,
      budget: 4,
      window: 6,
      requests: [request('a', 21, 40)],
    });
    expect(r.outputs.at(-1)?.completionTokens).toBe(40);
    for (const work of r.executed) {
      const start = work.startPosition;
      const end = start + work.tokenIds.length;
      const released = Math.max(0, Math.floor((start - 6 + 1) / 4));
      expect(work.blockTable).toHaveLength(Math.ceil(end / 4));
      work.blockTable.forEach((b, i) => {
        if (i < released) expect(b).toBe(RELEASED_KV_BLOCK);
        else expect(b).not.toBe(RELEASED_KV_BLOCK);
      });
      // Every position the step's queries read (start - 5 ..) is in a held block.
      const firstRead = Math.max(0, start - 5);
      expect(work.blockTable[Math.floor(firstRead / 4)]).not.toBe(RELEASED_KV_BLOCK);
    }
    expect(r.executed.at(-1)?.blockTable.filter((b) => b === RELEASED_KV_BLOCK).length).toBe(13);
    expect(r.kv.freeBlocks()).toBe(16);
  });

  it('reserves at most the window plus one block per request, and frees all on preemption', () => {
    const clock = new ManualClock();
    const kv = new TestKvPool(64, 4);
    const policy = new LinearPolicy(model, [1], 1e9, 1e9);
    const limits = { maxNumSeqs: 8, maxNumBatchedTokens: 64, maxModelLen: 1024 };
    const windowed = new Scheduler(kv, policy, clock, { ...limits, slidingWindow: 6 });
    const full = new Scheduler(kv, policy, clock, limits);
    windowed.addRequest(request('a', 5, 300));
    full.addRequest(request('a', 5, 300));
    const a = windowed.get('a');
    const b = full.get('a');
    if (a === undefined || b === undefined) throw new Error('request not added');
    expect(windowed.reservationOf(a)).toBe(12);
    expect(full.reservationOf(b)).toBe(308);
    // Short requests reserve their own length, window or not.
    windowed.addRequest(request('short', 2, 1));
    const short = windowed.get('short');
    if (short === undefined) throw new Error('request not added');
    expect(windowed.reservationOf(short)).toBe(4);
  });
});
