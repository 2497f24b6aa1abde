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
}

export interface AdmissionDecision {
  admit: boolean;
  /** Predicted time to the candidate's first token, milliseconds (for logs and tests). */
  predictedTtftMs: number;
  /** Predicted decode iteration time with the candidate in the batch, milliseconds. */
  predictedTpotMs: number;
  /** Why not, in words, when admit is false. */
  reason?: string;
}

export interface IntervalChoice {
  interval: number;
  /** Predicted iteration time at that interval, milliseconds. */
  predictedMs: number;
}

export interface SchedulingPolicy {
  /** Policy name as in the simulator: select-n, fixed-n-K, no-offload, full-streaming. */
  readonly name: string;
  chooseInterval(shape: BatchShape, status: RuntimeStatus): IntervalChoice;
  admit(query: AdmissionQuery, status: RuntimeStatus): AdmissionDecision;
}
