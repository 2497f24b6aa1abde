import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/server/scheduler/scheduler.ts';
import type { NewRequest, RequestOutput } from '../../src/server/scheduler/request.ts';
import {
  DeterministicExecutor,
  GREEDY,
  LinearPolicy,
  ManualClock,
  TestKvPool,
  predictMs,
  type LinearModel,
} from './fixtures/deterministic.ts';

const model: LinearModel = {
  baseMs: 2,
  perTokenMs: 0.05,
  perContextMs: 0.001,
  copyMsPerLayer: 1,
  numLayers: 16,
};

interface Harness {
  clock: ManualClock;
  kv: TestKvPool;
  exec: DeterministicExecutor;
  policy: LinearPolicy;
  sched: Scheduler;
  outputs: Map<string, RequestOutput[]>;
}

function harness(opts: {
  blocks: number;
  blockSize?: number;
  maxNumSeqs?: number;
  budget?: number;
  range?: number[];
  ttft?: number;
  tpot?: number;
  maxModelLen?: number;
}): Harness {
  const clock = new ManualClock();
  const kv = new TestKvPool(opts.blocks, opts.blockSize ?? 4);
  const maxModelLen = opts.maxModelLen ?? 256;
  const exec = new DeterministicExecutor(clock, kv, model, maxModelLen);
  const policy = new LinearPolicy(
    model,
    opts.range ?? [1, 2, 4, 8, 16],
    opts.ttft ?? 1e9,
    opts.tpot ?? 1e9,
  );
  const sched = new Scheduler(kv, policy, clock, {
    maxNumSeqs: opts.maxNumSeqs ?? 8,
    maxNumBatchedTokens: opts.budget ?? 64,
    maxModelLen,
  });
  return { clock, kv, exec, policy, sched, outputs: new Map() };
}

function request(id: string, prompt: number[], maxTokens: number, arrivalMs = 0): NewRequest {
  return { id, promptTokenIds: prompt, maxTokens, sampling: GREEDY, stopTokenIds: [], arrivalMs };
}

/** Runs iterations until every request is finished; fails on a stall (nothing schedulable). */
async function drain(h: Harness, onIteration?: (i: number) => void): Promise<number> {
  let iterations = 0;
  while (h.sched.hasUnfinished()) {
    const out = h.sched.schedule(h.exec.status());
    if (out === null) {
      // The scheduler may end a request that can never fit; anything else is a stall.
      if (h.sched.hasUnfinished()) throw new Error('scheduler stalled with unfinished requests');
      break;
    }
    const result = await h.exec.execute({ interval: out.interval, seqs: out.seqs });
    for (const o of h.sched.updateFromOutput(out, result)) {
      const list = h.outputs.get(o.requestId) ?? [];
      list.push(o);
      h.outputs.set(o.requestId, list);
    }
    iterations += 1;
    onIteration?.(iterations);
    if (iterations > 100_000) throw new Error('no progress');
  }
  return iterations;
}

function expectedContinuation(prompt: readonly number[], n: number, vocab = 100): number[] {
  const out: number[] = [];
  let last = prompt[prompt.length - 1] ?? 0;
  for (let i = 0; i < n; i++) {
    last = (last + 1) % vocab;
    out.push(last);
  }
  return out;
}

describe('Scheduler', () => {
  it('chunks a long prompt over iterations within the token budget and then decodes', async () => {
    const h = harness({ blocks: 64, budget: 16 });
    const prompt = Array.from({ length: 40 }, (_, i) => i % 50);
    h.sched.addRequest(request('a', prompt, 3));
    await drain(h);
    const chunks = h.exec.executed.map((b) => b.seqs[0]?.tokenIds.length);
    expect(chunks).toEqual([16, 16, 8, 1, 1]);
    const tokens = (h.outputs.get('a') ?? []).flatMap((o) => o.newTokenIds);
    expect(tokens).toEqual(expectedContinuation(prompt, 3));
    expect(h.outputs.get('a')?.at(-1)?.finishReason).toBe('length');
    expect(h.kv.freeBlocks()).toBe(64);
  });

  it('ends a request on a stop token with reason stop', async () => {
    const h = harness({ blocks: 16 });
    h.sched.addRequest({ ...request('a', [5], 10), stopTokenIds: [8] });
    await drain(h);
    const outs = h.outputs.get('a') ?? [];
    expect(outs.flatMap((o) => o.newTokenIds)).toEqual([6, 7, 8]);
    expect(outs.at(-1)?.finishReason).toBe('stop');
    expect(outs.at(-1)?.stopTokenId).toBe(8);
  });

  it('preempts the newest request when blocks run out and recomputes it without losing tokens', async () => {
    // 6 blocks of 4 tokens: two requests of 8 prompt + 8 output tokens need 8 blocks in total.
    const h = harness({ blocks: 6, blockSize: 4 });
    h.sched.addRequest(request('old', [1, 2, 3, 4, 5, 6, 7, 8], 8, 0));
    h.sched.addRequest(request('new', [11, 12, 13, 14, 15, 16, 17, 18], 8, 1));
    const preempted: string[] = [];
    while (h.sched.hasUnfinished()) {
      const out = h.sched.schedule(h.exec.status());
      if (out === null) throw new Error('stalled');
      preempted.push(...out.preempted);
      const result = await h.exec.execute({ interval: out.interval, seqs: out.seqs });
      for (const o of h.sched.updateFromOutput(out, result)) {
        h.outputs.set(o.requestId, [...(h.outputs.get(o.requestId) ?? []), o]);
      }
    }
    expect(preempted.length).toBeGreaterThan(0);
    expect(new Set(preempted)).toEqual(new Set(['new']));
    for (const [id, prompt] of [
      ['old', [1, 2, 3, 4, 5, 6, 7, 8]],
      ['new', [11, 12, 13, 14, 15, 16, 17, 18]],
    ] as const) {
      expect((h.outputs.get(id) ?? []).flatMap((o) => o.newTokenIds)).toEqual(
        expectedContinuation(prompt, 8),
      );
    }
    expect(h.sched.stats().preemptionsTotal).toBe(preempted.length);
    expect(h.kv.freeBlocks()).toBe(6);
  });

  it('never loses a request under preemption (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: 24 }),
        fc.array(
          fc.record({
            promptLen: fc.integer({ min: 1, max: 30 }),
            maxTokens: fc.integer({ min: 1, max: 20 }),
            arrival: fc.integer({ min: 0, max: 5 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 4, max: 64 }),
        async (blocks, specs, budget) => {
          const h = harness({ blocks, blockSize: 4, budget, maxModelLen: 64 });
          const prompts = new Map<string, number[]>();
          specs.forEach((spec, i) => {
            const prompt = Array.from({ length: spec.promptLen }, (_, k) => (i * 7 + k) % 100);
            prompts.set(`r${i}`, prompt);
            h.sched.addRequest(request(`r${i}`, prompt, spec.maxTokens, spec.arrival));
          });
          await drain(h);
          specs.forEach((spec, i) => {
            const id = `r${i}`;
            const outs = h.outputs.get(id) ?? [];
            const prompt = prompts.get(id) ?? [];
            const fits = prompt.length + spec.maxTokens <= blocks * 4;
            if (fits) {
              expect(outs.flatMap((o) => o.newTokenIds)).toEqual(
                expectedContinuation(prompt, spec.maxTokens),
              );
            }
            expect(outs.filter((o) => o.finishReason !== undefined).length).toBeLessThanOrEqual(1);
          });
          // Every request finished, all blocks back.
          expect(h.sched.hasUnfinished()).toBe(false);
          expect(h.kv.freeBlocks()).toBe(blocks);
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it('respects the token budget and the sequence cap in every iteration (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 48 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        async (maxNumSeqs, budget, promptLens) => {
          const h = harness({ blocks: 200, maxNumSeqs, budget });
          promptLens.forEach((len, i) => {
            h.sched.addRequest(
              request(
                `r${i}`,
                Array.from({ length: len }, () => 3),
                4,
              ),
            );
          });
          await drain(h);
          for (const batch of h.exec.executed) {
            expect(batch.seqs.length).toBeLessThanOrEqual(maxNumSeqs);
            const tokens = batch.seqs.reduce((n, s) => n + s.tokenIds.length, 0);
            expect(tokens).toBeLessThanOrEqual(budget);
          }
        },
      ),
      { numRuns: 100, seed: 7 },
    );
  });

  it('admits only while the predicted TPOT of the batch stays within the SLO', async () => {
    // A decode iteration costs 2 + 0.05 per token + 0.001 per context token + 1 ms of exposed
    // copy at N=16; an SLO of 3.6 ms allows a handful of sequences but not all twenty.
    const tpot = 3.6;
    const h = harness({ blocks: 400, maxNumSeqs: 32, budget: 64, tpot, ttft: 1e6, range: [16] });
    for (let i = 0; i < 20; i++) h.sched.addRequest(request(`r${i}`, [1, 2, 3, 4], 6, 0));
    let refusals = 0;
    let maxConcurrent = 0;
    while (h.sched.hasUnfinished()) {
      const out = h.sched.schedule(h.exec.status());
      if (out === null) throw new Error('stalled');
      refusals += out.refused.length;
      maxConcurrent = Math.max(maxConcurrent, h.sched.stats().running);
      // The predicted iteration time never exceeds the SLO once more than one request runs.
      if (out.seqs.length > 1) {
        expect(predictMs(model, out.shape, out.interval, 1)).toBeLessThanOrEqual(tpot);
      }
      const result = await h.exec.execute({ interval: out.interval, seqs: out.seqs });
      h.sched.updateFromOutput(out, result);
    }
    expect(refusals).toBeGreaterThan(0);
    expect(maxConcurrent).toBeGreaterThan(1);
    expect(maxConcurrent).toBeLessThan(20);
  });

  it('chooses N per iteration exactly as the policy does, and raises N when bandwidth drops', async () => {
    const h = harness({ blocks: 200, budget: 64, tpot: 6, range: [1, 2, 4, 8, 16] });
    for (let i = 0; i < 4; i++) h.sched.addRequest(request(`r${i}`, [1, 2, 3], 30));
    const chosen: { interval: number; expected: number; scale: number }[] = [];
    let iteration = 0;
    while (h.sched.hasUnfinished()) {
      iteration += 1;
      if (iteration === 15) h.exec.bwScale = 0.25;
      const status = h.exec.status();
      const out = h.sched.schedule(status);
      if (out === null) throw new Error('stalled');
      const expected = h.policy.chooseInterval(out.shape, status).interval;
      chosen.push({ interval: out.interval, expected, scale: h.exec.bwScale });
      const result = await h.exec.execute({ interval: out.interval, seqs: out.seqs });
      h.sched.updateFromOutput(out, result);
    }
    for (const c of chosen) expect(c.interval).toBe(c.expected);
    const before = chosen.filter((c) => c.scale === 1).map((c) => c.interval);
    const after = chosen.filter((c) => c.scale < 1).map((c) => c.interval);
    expect(Math.min(...after)).toBeGreaterThan(Math.min(...before));
  });

  it('frees the blocks of aborted requests, running or waiting', async () => {
    const h = harness({ blocks: 20, maxNumSeqs: 1 });
    h.sched.addRequest(request('run', [1, 2, 3, 4, 5], 50));
    h.sched.addRequest(request('wait', [1, 2, 3], 50));
    const out = h.sched.schedule(h.exec.status());
    if (out === null) throw new Error('nothing scheduled');
    h.sched.updateFromOutput(out, await h.exec.execute({ interval: out.interval, seqs: out.seqs }));
    expect(h.kv.freeBlocks()).toBeLessThan(20);
    h.sched.finishRequests(['run', 'wait'], 'abort');
    expect(h.kv.freeBlocks()).toBe(20);
    expect(h.sched.hasUnfinished()).toBe(false);
    expect(h.sched.takeFinished().map((r) => [r.id, r.finishReason])).toEqual([
      ['run', 'abort'],
      ['wait', 'abort'],
    ]);
  });

  it('ends a request that could never fit in the pool with reason length', async () => {
    const h = harness({ blocks: 2, blockSize: 4, maxModelLen: 64 });
    h.sched.addRequest(
      request(
        'big',
        Array.from({ length: 12 }, () => 1),
        4,
      ),
    );
    h.sched.addRequest(request('small', [1], 2));
    await drain(h);
    const finished = h.sched.takeFinished().map((r) => [r.id, r.finishReason]);
    expect(finished).toContainEqual(['big', 'length']);
    expect(h.outputs.get('small')?.flatMap((o) => o.newTokenIds)).toEqual([2, 3]);
  });
});
