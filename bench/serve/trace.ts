// The serving bench's seeded trace: Poisson arrivals at a base rate with a burst from 30% to 50%
// of the run, prompts of 32-95 token ids (3..502, inside every bench tokenizer's vocabulary) and
// 96-159 output tokens. Shared by bench/serve/run.ts (in process, CPU) and bench/gpu/run-serve.sh
// (replayed over HTTP against `selectn serve` on a GPU, from the JSON bench/gpu/dump-trace.ts writes).
import { seededRandom } from '../../src/planner/index.ts';

export interface TraceItem {
  atMs: number;
  prompt: number[];
  maxTokens: number;
}

export interface TraceOptions {
  seed: number;
  durationS: number;
  baseRate: number;
  burstRate: number;
}

export function makeTrace(o: TraceOptions): TraceItem[] {
  const rand = seededRandom(o.seed);
  const trace: TraceItem[] = [];
  const rateAt = (t: number): number =>
    t >= 0.3 * o.durationS && t < 0.5 * o.durationS ? o.burstRate : o.baseRate;
  for (let t = 0; t < o.durationS;) {
    t += rand.exponential(1 / rateAt(t));
    if (t >= o.durationS) break;
    const len = 32 + Math.floor(rand.next() * 64);
    trace.push({
      atMs: t * 1000,
      prompt: Array.from({ length: len }, () => 3 + Math.floor(rand.next() * 500)),
      maxTokens: 96 + Math.floor(rand.next() * 64),
    });
  }
  return trace;
}
