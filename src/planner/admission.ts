// SLO-aware admission with output growth (DESIGN.md section 2). A request joins the running batch
// only if, at some interval in the range, the KV cache holds every running request's reservation
// (prompt + expected output, bounded by max_tokens) plus the candidate's, the batch's predicted
// mean TPOT over its life at those reserved lengths (decode iterations plus its share of
// iterations carrying a prefill chunk, mean-tpot.ts) meets the target, and no running request that
// is still prefilling is pushed past its TTFT.
// The interval is the least offloading that holds the reservations: among the intervals that hold
// them it is the fastest, so it is the best for every latency target at once.
//
// Offloading to admit is a trade: the freed memory lets the batch grow by one sequence, and every
// iteration gets slower by the copies it cannot hide. It is taken only when it pays: when decode
// throughput (sequences per ms) with the candidate at the deeper interval is at least that of the
// batch without it at its own least offloading. With a copy of one layer costing tens of decode
// steps (a 13B model over PCIe 4) it rarely does, and Select-N then admits exactly as no-offload.
// (Offloading also to save a waiting request's TTFT was tried: on llama-13b / A100 traces it
// lowered goodput, the slower iterations costing later requests more than it saved;
// test/server/scheduler-slo.test.ts.)
import type { BatchShape } from './profile.ts';
import type { IntervalChooser } from './online.ts';
import { meanIterationMs } from './mean-tpot.ts';

export interface GrowthAdmissionQuery {
  /** Decode-only iteration of the running batch with the candidate, contexts at their reservations. */
  decodeWith: BatchShape;
  /** The same without the candidate. */
  decodeWithout: BatchShape;
  /** decodeWith plus one full prefill chunk: the iterations that carry a joining request's prompt. */
  prefillWith: BatchShape;
  /** Fraction of the batch's iterations that carry a prefill chunk (mean-tpot.ts prefillShare). */
  prefillShare: number;
  /** The iteration being built, with the candidate's first prefill chunk (its TTFT, running prefills' TTFT). */
  chunkWith: BatchShape;
  /** The iteration being built, without the candidate. */
  chunkWithout: BatchShape;
  /** KV tokens reserved by the running batch, without and with the candidate. */
  reservedWithout: number;
  reservedWith: number;
  /** Iterations the candidate needs to finish its prefill (its first token comes with the last). */
  candidatePrefillIterations: number;
  /** How long the candidate has waited already, ms. */
  candidateWaitedMs: number;
  /** Running requests still prefilling: iterations they have left and ms left to their TTFT. */
  prefilling: readonly { iterationsLeft: number; msLeft: number }[];
  bandwidthBytesPerS: number;
  slo: { ttftMs: number; tpotMs: number };
  /**
   * Measured over predicted iteration time of late (1: the profile holds). Every prediction is
   * multiplied by it, so a device slower than its profile (shared, throttled) admits less.
   */
  timeScale?: number;
}

export type GrowthAdmissionDecision =
  | {
      admit: true;
      interval: number;
      predictedTpotMs: number;
      predictedTtftMs: number;
      /**
       * False when the candidate's TTFT is predicted to be missed. It is admitted anyway: every
       * interval that holds it is slower, and waiting only makes it later.
       */
      ttftMet: boolean;
    }
  | {
      admit: false;
      reason: 'kv-capacity' | 'latency' | 'ttft' | 'throughput';
      detail: string;
      predictedTpotMs: number;
      predictedTtftMs: number;
    };

export function admitWithGrowth(
  chooser: IntervalChooser,
  q: GrowthAdmissionQuery,
): GrowthAdmissionDecision {
  const bw = q.bandwidthBytesPerS;
  const scale = q.timeScale ?? 1;
  const predict = (i: number, shape: BatchShape): number => chooser.predictAt(i, shape, bw) * scale;
  const index = chooser.holdingIndex(q.reservedWith);
  if (index < 0) {
    return {
      admit: false,
      reason: 'kv-capacity',
      detail: `reservations need ${q.reservedWith} KV tokens, at most ${chooser.kvCapacityTokens[0] ?? 0} fit in the range`,
      predictedTpotMs: Infinity,
      predictedTtftMs: Infinity,
    };
  }
  const interval = chooser.candidates[index] ?? 0;
  const decodeMs = predict(index, q.decodeWith);
  const chunkMs = predict(index, q.chunkWith);
  const tpot = meanIterationMs(decodeMs, predict(index, q.prefillWith), q.prefillShare);
  const ttft = q.candidateWaitedMs + Math.max(1, q.candidatePrefillIterations) * chunkMs;
  if (tpot > q.slo.tpotMs) {
    return {
      admit: false,
      reason: 'latency',
      detail: `predicted mean ${tpot.toFixed(1)} ms > TPOT ${q.slo.tpotMs} ms at N = ${interval}, the least offloading holding ${q.reservedWith} KV tokens`,
      predictedTpotMs: tpot,
      predictedTtftMs: ttft,
    };
  }
  const withoutIndex = chooser.holdingIndex(q.reservedWithout);
  if (q.prefilling.length > 0 && withoutIndex >= 0) {
    const chunkWithoutMs = predict(withoutIndex, q.chunkWithout);
    for (const p of q.prefilling) {
      const metWithout = p.iterationsLeft * chunkWithoutMs <= p.msLeft;
      if (metWithout && p.iterationsLeft * chunkMs > p.msLeft) {
        return {
          admit: false,
          reason: 'ttft',
          detail: `a running request's prefill (${p.iterationsLeft} iterations, ${p.msLeft.toFixed(0)} ms left) would miss its TTFT`,
          predictedTpotMs: tpot,
          predictedTtftMs: ttft,
        };
      }
    }
  }
  if (withoutIndex > index && q.decodeWithout.sequences > 0) {
    const withoutMs = predict(withoutIndex, q.decodeWithout);
    const rateWith = q.decodeWith.sequences / decodeMs;
    const rateWithout = q.decodeWithout.sequences / withoutMs;
    if (rateWith < rateWithout) {
      return {
        admit: false,
        reason: 'throughput',
        detail: `offloading to N = ${interval} for one more sequence: ${rateWith.toFixed(3)} < ${rateWithout.toFixed(3)} tokens/ms`,
        predictedTpotMs: tpot,
        predictedTtftMs: ttft,
      };
    }
  }
  return {
    admit: true,
    interval,
    predictedTpotMs: tpot,
    predictedTtftMs: ttft,
    ttftMet: ttft <= q.slo.ttftMs,
  };
}
