// Iteration-level continuous batching in the shape of vLLM v1: addRequest, schedule,
// updateFromOutput, finishRequests. Each iteration fills a token budget, running requests first
// (one decode token each, or the next prefill chunk), then waiting ones in arrival order while the
// policy predicts every SLO still holds. Every running request reserves KV for its growth (prompt
// plus expected output, bounded by max_tokens and the context); admission checks the
// reservations, and the interval is chosen so that they fit. When the reservations exceed what
// the policy can hold within the TPOT target (the copy bandwidth dropped), or the runtime's pool
// says "no room", the newest running request is preempted (its blocks freed) and recomputed
// later. With a sliding window, blocks wholly before every future query's window go back to the
// pool as the request advances, and reservations count at most the window plus one block. The
// scheduler is pure: time comes from an injected clock, prediction from the policy.
import { kvTokensHeld } from '../../planner/index.ts';
import {
  RELEASED_KV_BLOCK,
  type ExecuteResult,
  type KvPoolPort,
  type RuntimeStatus,
  type SeqWork,
} from '../engine-port.ts';
import type { AdmissionDecision, BatchShape, SchedulingPolicy } from './policy.ts';
import {
  FinishReason,
  RequestStatus,
  SchedRequest,
  type NewRequest,
  type RequestOutput,
} from './request.ts';

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface SchedulerLimits {
  /** Most sequences in one iteration. */
  maxNumSeqs: number;
  /** Most tokens computed in one iteration. */
  maxNumBatchedTokens: number;
  /** Longest prompt + output. */
  maxModelLen: number;
  /**
   * Most output tokens reserved in the KV cache per request at admission (the expected output
   * length); a request reserves min(max_tokens, this). Default: all of max_tokens.
   */
  reservedOutputTokens?: number;
  /** Positions a query attends to at most (the model's sliding window); absent: all. */
  slidingWindow?: number;
}

export interface SchedulerOutput {
  iteration: number;
  /** Interval chosen by the policy for this iteration. */
  interval: number;
  predictedMs: number;
  seqs: SeqWork[];
  shape: BatchShape;
  /** Requests preempted while building this iteration. */
  preempted: string[];
  /** Requests admitted from the waiting queue in this iteration. */
  admitted: string[];
  /** Admission decisions that said no in this iteration (head of the queue only). */
  refused: AdmissionDecision[];
}

export interface SchedulerStats {
  waiting: number;
  running: number;
  preemptionsTotal: number;
}

export class Scheduler {
  private readonly waiting: SchedRequest[] = [];
  private readonly running: SchedRequest[] = [];
  private readonly requests = new Map<string, SchedRequest>();
  private finished: SchedRequest[] = [];
  private iteration = 0;
  private preemptionsTotal = 0;
  private readonly kv: KvPoolPort;
  private readonly policy: SchedulingPolicy;
  private readonly clock: Clock;
  private readonly limits: SchedulerLimits;

  constructor(kv: KvPoolPort, policy: SchedulingPolicy, clock: Clock, limits: SchedulerLimits) {
    this.kv = kv;
    this.policy = policy;
    this.clock = clock;
    this.limits = limits;
  }

  addRequest(request: NewRequest): void {
    if (this.requests.has(request.id)) throw new Error(`duplicate request id ${request.id}`);
    if (request.promptTokenIds.length >= this.limits.maxModelLen) {
      throw new Error(`prompt of ${request.promptTokenIds.length} tokens exceeds the context`);
    }
    const req = new SchedRequest(request);
    this.requests.set(req.id, req);
    this.waiting.push(req);
  }

  hasUnfinished(): boolean {
    return this.requests.size > 0;
  }

  stats(): SchedulerStats {
    return {
      waiting: this.waiting.length,
      running: this.running.length,
      preemptionsTotal: this.preemptionsTotal,
    };
  }

  get(requestId: string): SchedRequest | undefined {
    return this.requests.get(requestId);
  }

  /** Builds the next iteration. Returns null when there is nothing to run. */
  schedule(status: RuntimeStatus): SchedulerOutput | null {
    const seqs: SeqWork[] = [];
    const preempted: string[] = [];
    const admitted: string[] = [];
    const refused: AdmissionDecision[] = [];
    let budget = this.limits.maxNumBatchedTokens;

    // Reservations beyond what the policy can hold within the TPOT target: preempt the newest
    // rather than offload past the SLO (the lone oldest request always runs).
    while (this.running.length > 1) {
      const reserved = this.reservedOf(this.running);
      if (reserved <= this.policy.kvBudgetTokens(this.budgetShape(), status)) break;
      const victim = this.running.pop();
      if (victim === undefined) break;
      this.preempt(victim);
      preempted.push(victim.id);
    }

    // Running requests first, oldest first; preempt from the newest end when blocks run out.
    let index = 0;
    while (index < this.running.length && budget > 0) {
      const req = this.running[index];
      if (req === undefined) break;
      const numNew = Math.min(req.numTokens - req.numComputedTokens, budget);
      if (numNew <= 0) {
        index += 1;
        continue;
      }
      if (this.heldBlocksFor(req.numComputedTokens, numNew) > this.kv.totalBlocks()) {
        // Could never fit even alone: the pool is its context limit.
        req.finishedMs = this.clock.now();
        this.finish(req, FinishReason.LENGTH);
        continue;
      }
      let scheduled = false;
      for (;;) {
        if (this.growBlocks(req, req.numComputedTokens + numNew)) {
          scheduled = true;
          break;
        }
        const victim = this.running.pop();
        if (victim === undefined) break;
        this.preempt(victim);
        preempted.push(victim.id);
        if (victim === req) break;
      }
      if (!scheduled) break;
      seqs.push(this.work(req, numNew));
      budget -= numNew;
      index += 1;
    }

    // Then waiting requests in arrival order, while nothing was preempted and the policy agrees.
    if (preempted.length === 0) {
      while (this.waiting.length > 0 && budget > 0) {
        if (this.running.length >= this.limits.maxNumSeqs) break;
        const req = this.waiting[0];
        if (req === undefined) break;
        if (this.heldBlocksAlone(req) > this.kv.totalBlocks()) {
          // Could never fit even alone: end it rather than block the queue forever.
          this.waiting.shift();
          req.finishedMs = this.clock.now();
          this.finish(req, FinishReason.LENGTH);
          continue;
        }
        if (this.running.length > 0) {
          const decision = this.policy.admit(
            {
              running: shapeOf(seqs),
              candidateTokens: req.numTokens - req.numComputedTokens,
              waitedMs: Math.max(0, this.clock.now() - req.arrivalMs),
              chunkTokens: budget,
              resumed: req.firstTokenMs !== undefined,
              runningSequences: this.running.length,
              reservedTokens: this.reservedOf(this.running),
              candidateReservedTokens: this.reservationOf(req),
              promptTokensPerIteration:
                this.promptPerOutputOf(this.running) + this.promptPerOutput(req),
              maxChunkTokens: this.limits.maxNumBatchedTokens,
              prefilling: this.prefilling(seqs),
            },
            status,
          );
          if (!decision.admit) {
            refused.push(decision);
            break;
          }
        }
        const numNew = Math.min(req.numTokens - req.numComputedTokens, budget);
        if (!this.growBlocks(req, req.numComputedTokens + numNew)) break;
        this.waiting.shift();
        req.status = RequestStatus.RUNNING;
        req.firstScheduledMs ??= this.clock.now();
        this.running.push(req);
        admitted.push(req.id);
        seqs.push(this.work(req, numNew));
        budget -= numNew;
      }
    }

    if (seqs.length === 0) return null;
    const shape = shapeOf(seqs);
    const choice = this.policy.chooseInterval(shape, status, this.reservedOf(this.running));
    this.iteration += 1;
    return {
      iteration: this.iteration,
      interval: choice.interval,
      predictedMs: choice.predictedMs,
      seqs,
      shape,
      preempted,
      admitted,
      refused,
    };
  }

  /**
   * Applies what an iteration produced: advances computed tokens, appends sampled tokens, ends
   * requests that hit a stop token, max tokens or the context length, and frees their blocks.
   */
  updateFromOutput(output: SchedulerOutput, result: ExecuteResult): RequestOutput[] {
    const sampled = new Map(result.sampled.map((s) => [s.requestId, s]));
    const outputs: RequestOutput[] = [];
    const now = this.clock.now();
    for (const work of output.seqs) {
      const req = this.requests.get(work.requestId);
      // Finished (aborted) while the iteration ran: its blocks are already back in the pool.
      if (req?.status !== RequestStatus.RUNNING) continue;
      req.numComputedTokens = work.startPosition + work.tokenIds.length;
      this.releaseBeforeWindow(req);
      if (!work.sample) continue;
      const token = sampled.get(req.id);
      if (token === undefined) throw new Error(`engine returned no token for ${req.id}`);
      req.outputTokenIds.push(token.tokenId);
      req.firstTokenMs ??= now;
      let finishReason: FinishReason | undefined;
      let stopTokenId: number | undefined;
      if (req.stopTokenIds.has(token.tokenId)) {
        finishReason = FinishReason.STOP;
        stopTokenId = token.tokenId;
      } else if (
        req.outputTokenIds.length >= req.maxTokens ||
        req.numTokens >= this.limits.maxModelLen
      ) {
        finishReason = FinishReason.LENGTH;
      }
      const out: RequestOutput = {
        requestId: req.id,
        newTokenIds: [token.tokenId],
        promptTokens: req.promptTokenIds.length,
        completionTokens: req.outputTokenIds.length,
      };
      if (token.logprob !== undefined) {
        out.logprobs = [{ logprob: token.logprob, top: token.topLogprobs ?? [] }];
      }
      if (finishReason !== undefined) {
        req.finishedMs = now;
        out.finishReason = finishReason;
        if (stopTokenId !== undefined) out.stopTokenId = stopTokenId;
        this.finish(req, finishReason);
      }
      outputs.push(out);
    }
    return outputs;
  }

  /** Ends requests (aborted by the client, stopped by a stop string, failed) and frees blocks. */
  finishRequests(ids: Iterable<string>, reason: FinishReason): void {
    for (const id of ids) {
      const req = this.requests.get(id);
      if (req === undefined) continue;
      removeFrom(this.waiting, req);
      req.finishedMs = this.clock.now();
      this.finish(req, reason);
    }
  }

  /** Ids of every unfinished request. */
  unfinishedIds(): string[] {
    return [...this.requests.keys()];
  }

  /** Requests finished since the last call, for whoever reports them. */
  takeFinished(): SchedRequest[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  private finish(req: SchedRequest, reason: FinishReason): void {
    removeFrom(this.running, req);
    this.freeBlocks(req);
    req.status = RequestStatus.FINISHED;
    req.finishReason = reason;
    this.requests.delete(req.id);
    this.finished.push(req);
  }

  private preempt(req: SchedRequest): void {
    this.freeBlocks(req);
    req.numComputedTokens = 0;
    req.status = RequestStatus.WAITING;
    req.numPreemptions += 1;
    this.preemptionsTotal += 1;
    this.waiting.unshift(req);
  }

  private freeBlocks(req: SchedRequest): void {
    if (req.blocks.length > 0) this.kv.free(req.blocks);
    req.blocks = [];
    req.releasedBlocks = 0;
  }

  /**
   * Gives back the leading blocks no future query reads: with a sliding window w, the next query
   * (at position numComputedTokens) attends from numComputedTokens - w + 1 on, so a block whose
   * last position is at most numComputedTokens - w is never read again.
   */
  private releaseBeforeWindow(req: SchedRequest): void {
    const release = this.releasableBlocks(req.numComputedTokens) - req.releasedBlocks;
    if (release <= 0) return;
    this.kv.free(req.blocks.splice(0, release));
    req.releasedBlocks += release;
  }

  /** Leading blocks wholly before the window of a query at `position`. */
  private releasableBlocks(position: number): number {
    const w = this.limits.slidingWindow;
    if (w === undefined) return 0;
    return Math.max(0, Math.floor((position - w + 1) / this.kv.blockSize));
  }

  /** Blocks held while computing `numNew` tokens after `start`. */
  private heldBlocksFor(start: number, numNew: number): number {
    return this.blocksFor(start + numNew) - this.releasableBlocks(start);
  }

  /** Most blocks the request holds at once when it runs alone, prefilled chunk by chunk. */
  private heldBlocksAlone(req: SchedRequest): number {
    if (this.limits.slidingWindow === undefined) return this.blocksFor(req.numTokens);
    const chunk = Math.min(req.numTokens, this.limits.maxNumBatchedTokens);
    let most = 0;
    for (let start = 0; start < req.numTokens; start += chunk) {
      most = Math.max(most, this.heldBlocksFor(start, Math.min(chunk, req.numTokens - start)));
    }
    return most;
  }

  /** KV tokens a request reserves: prompt + expected output, bounded by the context, in blocks. */
  reservationOf(req: SchedRequest): number {
    const tokens = req.promptTokenIds.length + this.expectedOutput(req);
    const blocks = this.blocksFor(Math.max(tokens, req.numTokens + 1)) * this.kv.blockSize;
    return kvTokensHeld(blocks, this.limits.slidingWindow, this.kv.blockSize);
  }

  private expectedOutput(req: SchedRequest): number {
    const output = Math.min(req.maxTokens, this.limits.reservedOutputTokens ?? Infinity);
    return Math.min(output, this.limits.maxModelLen - req.promptTokenIds.length);
  }

  /** Prompt tokens per expected output token: what the request costs in prefill per decode step. */
  private promptPerOutput(req: SchedRequest): number {
    return req.promptTokenIds.length / Math.max(1, this.expectedOutput(req));
  }

  private promptPerOutputOf(reqs: readonly SchedRequest[]): number {
    let total = 0;
    for (const r of reqs) total += this.promptPerOutput(r);
    return total;
  }

  private reservedOf(reqs: readonly SchedRequest[]): number {
    let total = 0;
    for (const r of reqs) total += this.reservationOf(r);
    return total;
  }

  /** The coming iteration of the running batch as the KV budget sees it: contexts at reservations. */
  private budgetShape(): BatchShape {
    let newTokens = 0;
    for (const r of this.running) newTokens += Math.max(1, r.numTokens - r.numComputedTokens);
    return {
      sequences: this.running.length,
      newTokens: Math.min(newTokens, this.limits.maxNumBatchedTokens),
      contextTokens: this.reservedOf(this.running),
    };
  }

  /** Running requests before their first token, as of the iteration being built. */
  private prefilling(seqs: readonly SeqWork[]): { iterationsLeft: number; waitedMs: number }[] {
    const now = this.clock.now();
    const out: { iterationsLeft: number; waitedMs: number }[] = [];
    for (const s of seqs) {
      const req = this.requests.get(s.requestId);
      if (req === undefined || req.firstTokenMs !== undefined) continue;
      const left = req.numTokens - (s.startPosition + s.tokenIds.length);
      out.push({
        iterationsLeft: 1 + Math.ceil(left / this.limits.maxNumBatchedTokens),
        waitedMs: Math.max(0, now - req.arrivalMs),
      });
    }
    return out;
  }

  private blocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.kv.blockSize);
  }

  /** Makes the request's blocks cover numTokens; false (nothing allocated) when no room. */
  private growBlocks(req: SchedRequest, numTokens: number): boolean {
    const needed = this.blocksFor(numTokens) - req.releasedBlocks - req.blocks.length;
    if (needed <= 0) return true;
    const blocks = this.kv.allocate(needed);
    if (blocks === null) return false;
    req.blocks.push(...blocks);
    return true;
  }

  private work(req: SchedRequest, numNew: number): SeqWork {
    const start = req.numComputedTokens;
    return {
      requestId: req.id,
      tokenIds: req.tokens(start, start + numNew),
      startPosition: start,
      blockTable: [...new Array<number>(req.releasedBlocks).fill(RELEASED_KV_BLOCK), ...req.blocks],
      sample: start + numNew === req.numTokens,
      sampling: req.sampling,
      outputTokenIds: req.outputTokenIds,
      promptTokenIds: req.promptTokenIds,
    };
  }
}

function shapeOf(seqs: readonly SeqWork[]): BatchShape {
  let newTokens = 0;
  let contextTokens = 0;
  for (const s of seqs) {
    newTokens += s.tokenIds.length;
    contextTokens += s.startPosition + s.tokenIds.length;
  }
  return { sequences: seqs.length, newTokens, contextTokens };
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
