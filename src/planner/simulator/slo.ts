// The SLO, defined once (DESIGN.md section 7), as vLLM's and DistServe's benchmarks define it:
// per request, TTFT = first token - arrival, and mean TPOT = (completion - first token) /
// (output tokens - 1). A request meets the SLO when it finished and both are within target.
// Attainment is the share of ALL requests meeting it: requests refused at admission (they cannot
// fit the KV pool) and requests unfinished when the run ends count as misses.
import type { SloTargets } from '../offline-range.ts';

export const SLO_DEFINITION =
  'a request meets the SLO when it finished with TTFT = first token - arrival <= the TTFT target and mean TPOT = (completion - first token) / (output tokens - 1) <= the TPOT target; attainment = share of all requests meeting it, refused and unfinished requests counted as misses';

/** Mean TPOT of one request, ms (0 for a single output token). */
export function meanTpotMs(
  firstTokenMs: number,
  completionMs: number,
  outputTokens: number,
): number {
  return outputTokens > 1 ? (completionMs - firstTokenMs) / (outputTokens - 1) : 0;
}

export function meetsSlo(ttftMs: number | null, tpotMs: number | null, slo: SloTargets): boolean {
  return ttftMs !== null && tpotMs !== null && ttftMs <= slo.ttftMs && tpotMs <= slo.tpotMs;
}
