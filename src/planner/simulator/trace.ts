// Request traces: arrivals (Poisson or bursty), prompt and output lengths, seeded.
import { z } from 'zod';
import { seededRandom } from './prng.ts';

export const LengthDistribution = z
  .object({
    median: z.number().positive().describe('Median length, tokens'),
    sigma: z.number().nonnegative().describe('Log-normal shape (0 gives a constant length)'),
    min: z.number().int().positive().describe('Shortest length, tokens'),
    max: z.number().int().positive().describe('Longest length, tokens'),
  })
  .strict()
  .refine((d) => d.min <= d.max, { error: 'min must not exceed max', path: ['min'] });
export type LengthDistribution = z.infer<typeof LengthDistribution>;

/** ShareGPT-like chat lengths: prompts around 256 tokens, outputs around 128. */
export const DEFAULT_PROMPT: LengthDistribution = { median: 256, sigma: 0.9, min: 16, max: 1536 };
export const DEFAULT_OUTPUT: LengthDistribution = { median: 128, sigma: 0.8, min: 8, max: 512 };

export const TraceSpec = z
  .object({
    arrivals: z
      .enum(['poisson', 'bursty'])
      .describe(
        'poisson: exponential gaps; bursty: gamma gaps with coefficient of variation burstiness',
      ),
    ratePerS: z.number().positive().describe('Mean arrival rate, requests per second'),
    requests: z.number().int().positive().describe('Number of requests'),
    seed: z.number().int().describe('Seed of the generator'),
    burstiness: z.number().min(1).default(3).describe('Coefficient of variation of bursty gaps'),
    prompt: LengthDistribution.default(DEFAULT_PROMPT).describe('Prompt length distribution'),
    output: LengthDistribution.default(DEFAULT_OUTPUT).describe('Output length distribution'),
  })
  .strict();
export type TraceSpec = z.input<typeof TraceSpec>;

export interface TraceRequest {
  id: number;
  arrivalMs: number;
  promptTokens: number;
  outputTokens: number;
}

export function generateTrace(specInput: TraceSpec): TraceRequest[] {
  const spec = TraceSpec.parse(specInput);
  const random = seededRandom(spec.seed);
  const meanGapMs = 1000 / spec.ratePerS;
  const gammaShape = 1 / (spec.burstiness * spec.burstiness);
  const length = (d: LengthDistribution): number =>
    Math.min(d.max, Math.max(d.min, Math.round(random.logNormal(d.median, d.sigma))));
  const requests: TraceRequest[] = [];
  let t = 0;
  for (let id = 0; id < spec.requests; id++) {
    t +=
      spec.arrivals === 'poisson'
        ? random.exponential(meanGapMs)
        : random.gamma(gammaShape, meanGapMs);
    requests.push({
      id,
      arrivalMs: t,
      promptTokens: length(spec.prompt),
      outputTokens: length(spec.output),
    });
  }
  return requests;
}
