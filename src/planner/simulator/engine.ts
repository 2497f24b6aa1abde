// Continuous batching over paged KV blocks, in the manner of vLLM v1: each iteration fills a
// token budget, running requests first (a decode takes one token, an unfinished prefill a chunk),
// then waiting requests in arrival order; when a running request needs a KV block and none is
// free, the most recently admitted running request is preempted (its blocks freed, recomputed
// later). The policy gives each iteration's time and, for SLO-aware policies, gates admission.
import type { BatchShape } from '../profile.ts';
import { lifeShapes, prefillShare } from '../mean-tpot.ts';
import { KV_BLOCK_TOKENS } from '../memory.ts';
import type { SloTargets } from '../offline-range.ts';
import type { ServingPolicy } from './policies.ts';
import type { TraceRequest } from './trace.ts';
import { meanTpotMs, meetsSlo } from './slo.ts';

export interface SchedulerConfig {
  /** Most tokens one iteration computes (chunked prefill budget). */
  tokenBudget: number;
  maxRunningSequences: number;
  /** Output tokens SLO-aware admission reserves per request it cannot see the end of. */
  outputReserveTokens: number;
  /** Stop after this much simulated time; unfinished requests miss their SLO. */
  maxSimulatedMs: number;
  /**
   * Stop as soon as more requests than this are known to miss the SLO (a late first token or a
   * finished request over a target): a capacity search only needs to know the run failed.
   */
  abortAfterMisses?: number;
}

export interface BandwidthSchedule {
  initialBytesPerS: number;
  change?: { atMs: number; toBytesPerS: number };
}

export interface RequestOutcome {
  id: number;
  arrivalMs: number;
  outputTokens: number;
  ttftMs: number | null;
  tpotMs: number | null;
  finished: boolean;
  /** Never admitted: prompt plus output exceed the whole KV pool. */
  rejected: boolean;
  metSlo: boolean;
}

export interface PolicyRun {
  outcomes: RequestOutcome[];
  iterations: number;
  preemptions: number;
  endMs: number;
  /** Iterations per interval (key "none" for mechanisms without an interval). */
  intervalIterations: Record<string, number>;
  /** Stopped early by abortAfterMisses: the outcomes of the rest are recorded as unfinished. */
  aborted: boolean;
}

interface RequestState {
  request: TraceRequest;
  /** Tokens whose KV is stored. */
  computed: number;
  /** Tokens to have in KV before the next token is sampled (prompt, or prompt + generated after preemption). */
  prefillTarget: number;
  generated: number;
  blocks: number;
  firstTokenMs: number | null;
}

const blocksFor = (tokens: number): number => Math.ceil(tokens / KV_BLOCK_TOKENS);

/** KV tokens SLO-aware admission expects a request to hold, in whole blocks. */
function projectedTokensWith(reserve: number): (s: RequestState) => number {
  return (s) =>
    blocksFor(s.request.promptTokens + Math.max(s.generated, reserve)) * KV_BLOCK_TOKENS;
}

export function simulatePolicy(
  policy: ServingPolicy,
  trace: readonly TraceRequest[],
  slo: SloTargets,
  bandwidth: BandwidthSchedule,
  config: SchedulerConfig,
): PolicyRun {
  const capacityBlocks = Math.floor(policy.kvCapacityTokens / KV_BLOCK_TOKENS);
  const projectedTokens = projectedTokensWith(config.outputReserveTokens);
  // Prefill intake per decode step of a request like this one (mean-tpot.ts), at the reservation.
  const promptPerOutput = (s: RequestState): number =>
    s.request.promptTokens / Math.max(1, config.outputReserveTokens);
  const outcomes = new Map<number, RequestOutcome>();
  const waiting: RequestState[] = [];
  let running: RequestState[] = [];
  let freeBlocks = capacityBlocks;
  let now = 0;
  let next = 0;
  let iterations = 0;
  let preemptions = 0;
  const intervalIterations: Record<string, number> = {};
  // Requests known to miss: late first tokens as they come, other misses when recorded.
  let misses = 0;
  const missLimit = config.abortAfterMisses ?? Infinity;
  const record = (s: RequestState, finishMs: number | null, rejected: boolean): void => {
    const r = s.request;
    const ttftMs = s.firstTokenMs === null ? null : s.firstTokenMs - r.arrivalMs;
    const tpotMs =
      finishMs === null || s.firstTokenMs === null
        ? null
        : meanTpotMs(s.firstTokenMs, finishMs, r.outputTokens);
    const metSlo = meetsSlo(ttftMs, tpotMs, slo);
    if (!metSlo && !(s.firstTokenMs !== null && s.firstTokenMs - r.arrivalMs > slo.ttftMs)) {
      misses++;
    }
    outcomes.set(r.id, {
      id: r.id,
      arrivalMs: r.arrivalMs,
      outputTokens: r.outputTokens,
      ttftMs,
      tpotMs,
      finished: finishMs !== null,
      rejected,
      metSlo,
    });
  };
  const preempt = (victim: RequestState): void => {
    freeBlocks += victim.blocks;
    victim.blocks = 0;
    victim.computed = 0;
    victim.prefillTarget = victim.request.promptTokens + victim.generated;
    waiting.unshift(victim);
    preemptions++;
  };

  while (outcomes.size < trace.length && now <= config.maxSimulatedMs && misses <= missLimit) {
    while (next < trace.length && (trace[next]?.arrivalMs ?? Infinity) <= now) {
      const request = trace[next++] as TraceRequest;
      const state: RequestState = {
        request,
        computed: 0,
        prefillTarget: request.promptTokens,
        generated: 0,
        blocks: 0,
        firstTokenMs: null,
      };
      if (blocksFor(request.promptTokens + request.outputTokens) > capacityBlocks)
        record(state, null, true);
      else waiting.push(state);
    }
    if (running.length === 0 && waiting.length === 0) {
      now = trace[next]?.arrivalMs ?? now;
      continue;
    }
    const bw =
      bandwidth.change && now >= bandwidth.change.atMs
        ? bandwidth.change.toBytesPerS
        : bandwidth.initialBytesPerS;
    const scheduled: { state: RequestState; tokens: number }[] = [];
    let budget = config.tokenBudget;
    for (let i = 0; i < running.length && budget > 0; i++) {
      const s = running[i] as RequestState;
      const tokens =
        s.computed < s.prefillTarget ? Math.min(s.prefillTarget - s.computed, budget) : 1;
      const need = blocksFor(s.computed + tokens) - s.blocks;
      let selfPreempted = false;
      while (need > freeBlocks) {
        const victim = running.pop() as RequestState;
        preempt(victim);
        if (victim === s) {
          selfPreempted = true;
          break;
        }
      }
      if (selfPreempted) break;
      freeBlocks -= need;
      s.blocks += need;
      scheduled.push({ state: s, tokens });
      budget -= tokens;
    }
    let projectedKv = 0;
    let promptIntake = 0;
    for (const s of running) {
      projectedKv += projectedTokens(s);
      promptIntake += promptPerOutput(s);
    }
    while (budget > 0 && waiting.length > 0 && running.length < config.maxRunningSequences) {
      const s = waiting[0] as RequestState;
      const tokens = Math.min(s.prefillTarget - s.computed, budget);
      const need = blocksFor(s.computed + tokens) - s.blocks;
      if (need > freeBlocks) break;
      const extra = projectedTokens(s);
      if (policy.sloAwareAdmission && running.length > 0) {
        const kvWith = projectedKv + extra;
        const admitted = policy.admits({
          life: lifeShapes(
            running.length + 1,
            kvWith,
            config.tokenBudget,
            prefillShare(promptIntake + promptPerOutput(s), config.tokenBudget),
          ),
          kvWith,
          decodeWithout: {
            sequences: running.length,
            newTokens: running.length,
            contextTokens: projectedKv,
          },
          kvWithout: projectedKv,
          bandwidthBytesPerS: bw,
        });
        if (!admitted) break;
      }
      waiting.shift();
      running.push(s);
      freeBlocks -= need;
      s.blocks += need;
      scheduled.push({ state: s, tokens });
      budget -= tokens;
      projectedKv += extra;
      promptIntake += promptPerOutput(s);
    }
    if (scheduled.length === 0) {
      // Nothing fits next to what runs (cannot happen with an empty batch): wait for an arrival.
      now = trace[next]?.arrivalMs ?? config.maxSimulatedMs + 1;
      continue;
    }
    const shape: BatchShape = { sequences: scheduled.length, newTokens: 0, contextTokens: 0 };
    for (const { state, tokens } of scheduled) {
      shape.newTokens += tokens;
      shape.contextTokens += state.computed + tokens;
    }
    const outcome = policy.runIteration(shape, bw, (capacityBlocks - freeBlocks) * KV_BLOCK_TOKENS);
    now += outcome.iterationMs;
    iterations++;
    const key = outcome.key ?? (outcome.interval === null ? 'none' : String(outcome.interval));
    intervalIterations[key] = (intervalIterations[key] ?? 0) + 1;
    let anyFinished = false;
    for (const { state, tokens } of scheduled) {
      state.computed += tokens;
      if (state.computed < state.prefillTarget) continue;
      state.generated++;
      if (state.firstTokenMs === null) {
        state.firstTokenMs = now;
        if (now - state.request.arrivalMs > slo.ttftMs) misses++;
      }
      if (state.generated >= state.request.outputTokens) {
        freeBlocks += state.blocks;
        state.blocks = 0;
        record(state, now, false);
        anyFinished = true;
      }
    }
    if (anyFinished) running = running.filter((s) => !outcomes.has(s.request.id));
  }
  for (const s of [...running, ...waiting]) record(s, null, false);
  for (let k = next; k < trace.length; k++) {
    const request = trace[k] as TraceRequest;
    record(
      { request, computed: 0, prefillTarget: 0, generated: 0, blocks: 0, firstTokenMs: null },
      null,
      false,
    );
  }
  return {
    outcomes: [...outcomes.values()].sort((a, b) => a.id - b.id),
    iterations,
    preemptions,
    endMs: now,
    intervalIterations,
    aborted: misses > missLimit,
  };
}
