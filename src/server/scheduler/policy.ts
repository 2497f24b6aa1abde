// What the scheduler asks of an interval policy before each iteration: which N to run at, and
// whether a waiting request may join the running batch without breaking a predicted SLO. The
// production policies (select-n, fixed-n-K, no-offload, full-streaming) wrap src/planner; the
// scheduler itself never predicts anything.
import type { RuntimeStatus } from '../engine-port.ts';

/** Shape of one iteration, as the latency model reads it. */
export interface BatchShape {
  /** Sequences in the iteration. */
  sequences: number;
  /** Tokens computed in the iteration (prefill chunks + one per decode). */
  newTokens: number;
  /** Sum over sequences of the context each attends to at the end of the iteration. */
  contextTokens: number;
}

export interface AdmissionQuery {
  /** The iteration as built so far: running requests' work and requests admitted before. */
  running: BatchShape;
  /** Prompt tokens the candidate must prefill (prompt + output so far for a recompute). */
  candidateTokens: number;
  /** How long the candidate has waited already, milliseconds. */
  waitedMs: number;
  /** Largest prefill chunk per iteration (the token budget left after the decodes). */
  chunkTokens: number;
  /** The candidate resumes after a preemption and has produced its first token already. */
  resumed: boolean;
  /** Running requests (those admitted before it in this iteration included). */
  runningSequences: number;
  /**
   * KV tokens the running requests reserve: each its prompt plus its expected output (bounded by
   * max_tokens and the context), in whole blocks.
   */
  reservedTokens: number;
  /** KV tokens the candidate reserves, counted the same way. */
  candidateReservedTokens: number;
  /**
   * Prompt tokens the batch with the candidate takes in per decode iteration when each of its
   * requests is replaced by one like it: sum of prompt / expected output over the running requests
   * and the candidate. Admission prices the share of iterations that carry a prefill chunk with it.
   */
  promptTokensPerIteration: number;
  /** Most tokens one iteration computes: the size of a full prefill chunk. */
  maxChunkTokens: number;
  /** Running requests still before their first token: prefill iterations left, time waited. */
  prefilling: readonly { iterationsLeft: number; waitedMs: number }[];
}

export interface AdmissionDecision {
  admit: boolean;
  /** Predicted time to the candidate's first token, milliseconds (for logs and tests). */
  predictedTtftMs: number;
  /** Predicted mean TPOT over the batch's life with the candidate in it, milliseconds. */
  predictedTpotMs: number;
  /** Why not, in words, when admit is false. */
  reason?: string;
  /** Whether the candidate's predicted TTFT meets the target (false: admitted late). */
  ttftMet?: boolean;
}

export interface IntervalChoice {
  interval: number;
  /** Predicted iteration time at that interval, milliseconds. */
  predictedMs: number;
}

export interface SchedulingPolicy {
  /** Policy name as in the simulator: select-n, fixed-n-K, no-offload, full-streaming. */
  readonly name: string;
  /**
   * Interval for the iteration about to run; reservedTokens: KV tokens the running requests
   * reserve (the interval must leave room for them to grow).
   */
  chooseInterval(shape: BatchShape, status: RuntimeStatus, reservedTokens: number): IntervalChoice;
  /**
   * KV tokens the running batch may reserve while its iterations (of this shape, contexts at their
   * reservations) meet the TPOT target at some allowed interval. Above it the scheduler preempts
   * the newest request rather than let the policy offload past the SLO.
   */
  kvBudgetTokens(shape: BatchShape, status: RuntimeStatus): number;
  admit(query: AdmissionQuery, status: RuntimeStatus): AdmissionDecision;
}
