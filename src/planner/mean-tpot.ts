// The TPOT the SLO measures is a request's mean over its life: (end - first token) / (output - 1).
// Over that life the batch runs decode iterations, and some iterations also carry a prefill chunk
// of a request that joined. Admission prices that mean, not the heaviest single iteration:
// pricing every iteration as if it carried a full chunk refuses to batch at all once one chunk
// iteration exceeds the TPOT (a 512-token chunk of a 13B model on an A100 takes longer than a
// 70 ms TPOT), and the queue then runs one request at a time.
//
// Steady state: every request in the batch, when it ends, is replaced by one like it, so the batch
// takes in sum(prompt_i / output_i) prompt tokens per decode iteration. That many tokens over the
// chunk size is the share of iterations that carry a full chunk (at most all of them). At light
// load fewer requests join and the prediction is conservative.
import type { BatchShape } from './profile.ts';

export interface LifeShapes {
  /** Decode-only iteration of the batch with the candidate, contexts at their reservations. */
  decode: BatchShape;
  /** The same iteration also carrying one full prefill chunk. */
  prefill: BatchShape;
  /** Fraction of the batch's iterations that carry a prefill chunk, 0..1. */
  prefillShare: number;
}

export interface PromptAndOutput {
  promptTokens: number;
  /** Output tokens expected (the reservation: the scheduler cannot see the end). */
  outputTokens: number;
}

/** Prompt tokens the batch takes in per decode iteration when each request is replaced by one like it. */
export function promptTokensPerIteration(requests: Iterable<PromptAndOutput>): number {
  let tokens = 0;
  for (const r of requests) tokens += r.promptTokens / Math.max(1, r.outputTokens);
  return tokens;
}

/** Share of iterations that carry a full chunk of `chunkTokens` at that intake. */
export function prefillShare(tokensPerIteration: number, chunkTokens: number): number {
  if (!(chunkTokens > 0)) throw new RangeError(`chunkTokens must be positive, got ${chunkTokens}`);
  return Math.min(1, Math.max(0, tokensPerIteration) / chunkTokens);
}

/** The decode and chunk-carrying iterations of a batch at its reservations. */
export function lifeShapes(
  sequences: number,
  reservedContextTokens: number,
  chunkTokens: number,
  share: number,
): LifeShapes {
  const decode = { sequences, newTokens: sequences, contextTokens: reservedContextTokens };
  return {
    decode,
    prefill: {
      sequences: sequences + 1,
      newTokens: sequences + chunkTokens,
      contextTokens: reservedContextTokens + chunkTokens,
    },
    prefillShare: share,
  };
}

/** Predicted mean iteration time over the batch's life: the TPOT each of its requests sees. */
export function meanIterationMs(decodeMs: number, prefillMs: number, share: number): number {
  return decodeMs + share * Math.max(0, prefillMs - decodeMs);
}
