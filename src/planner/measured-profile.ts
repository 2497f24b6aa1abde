// Measured layer profiles: the profile file (PROFILE-FORMAT.md) and its fit by interpolation.
import { z } from 'zod';
import type { BatchShape, LayerProfile } from './profile.ts';
import type { ModelDescription } from './model.ts';
import type { HardwareDescription } from './hardware.ts';
import { PlannerError, PlannerErrorCode } from './errors.ts';

const nonNegative = z.number().nonnegative();

export const ProfilePoint = z
  .object({
    sequences: z.number().int().positive().describe('Sequences in the measured iteration'),
    newTokens: z.number().int().positive().describe('Tokens computed in the iteration'),
    contextTokens: z
      .number()
      .int()
      .nonnegative()
      .describe('KV tokens attended, summed over the sequences'),
    layerMs: z
      .array(nonNegative)
      .optional()
      .describe('Compute time of each decoder layer in ms, one entry per layer, in layer order'),
    decoderLayerMs: nonNegative
      .optional()
      .describe(
        'Compute time of every decoder layer in ms, when all layers were timed as one kind',
      ),
    outsideLayersMs: nonNegative.describe(
      'Time of the iteration outside decoder layers (embedding, final norm, LM head, sampling), ms',
    ),
  })
  .strict()
  .refine((p) => (p.layerMs === undefined) !== (p.decoderLayerMs === undefined), {
    error: 'give exactly one of layerMs and decoderLayerMs',
    path: ['layerMs'],
  });
export type ProfilePoint = z.infer<typeof ProfilePoint>;

export const PROFILE_FORMAT_VERSION = 1;

export const ProfileFile = z
  .object({
    version: z.literal(PROFILE_FORMAT_VERSION).describe('Format version; this reader knows 1'),
    model: z
      .object({
        name: z.string().min(1).describe('Model name the profile was measured for'),
        numLayers: z.number().int().positive().describe('Decoder layers of that model'),
      })
      .strict(),
    hardware: z
      .object({
        name: z.string().min(1).describe('Hardware name the profile was measured on'),
        device: z.string().optional().describe('Device string as the driver reports it'),
      })
      .strict(),
    createdAt: z.string().optional().describe('ISO 8601 time of the measurement'),
    tool: z.string().optional().describe('What wrote the file, e.g. "selectn profile 0.1.0"'),
    points: z.array(ProfilePoint).min(1).describe('Measured iterations'),
  })
  .strict()
  .describe('Measured per-layer compute times of one model on one GPU');
export type ProfileFile = z.infer<typeof ProfileFile>;

/** Validates a parsed profile file, naming the first bad field. */
export function validateProfileFile(value: unknown): ProfileFile {
  const parsed = ProfileFile.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String).join('.') : '';
    throw new PlannerError(
      PlannerErrorCode.InvalidDescription,
      `profile file${path ? ` field ${path}` : ''}: ${issue ? issue.message : 'invalid'}`,
      path || undefined,
    );
  }
  return parsed.data;
}

/** Straight-line fit t = a + c * x by least squares; c = 0 when x does not vary. */
function fitLine(xs: readonly number[], ts: readonly number[]): { a: number; c: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const mt = ts.reduce((s, t) => s + t, 0) / n;
  let sxx = 0;
  let sxt = 0;
  for (let k = 0; k < n; k++) {
    const dx = (xs[k] ?? 0) - mx;
    sxx += dx * dx;
    sxt += dx * ((ts[k] ?? 0) - mt);
  }
  const c = sxx > 0 ? Math.max(0, sxt / sxx) : 0;
  return { a: mt - c * mx, c };
}

/**
 * Fits measured points: for every distinct newTokens value (a knot) and every layer, a straight
 * line in contextTokens; between knots, linear interpolation in newTokens; below the first knot
 * the first knot's line; above the last, linear extrapolation from the last two knots.
 * `sequences` is not a separate axis: its effect shows through newTokens and contextTokens.
 */
export function measuredProfile(
  file: ProfileFile,
  model: ModelDescription,
  hardware?: HardwareDescription,
): LayerProfile {
  const L = model.numLayers;
  if (file.model.name !== model.name || file.model.numLayers !== L) {
    throw new PlannerError(
      PlannerErrorCode.ProfileMismatch,
      `profile is for model ${file.model.name} (${file.model.numLayers} layers), not ${model.name} (${L} layers)`,
      'model',
    );
  }
  if (hardware && file.hardware.name !== hardware.name) {
    throw new PlannerError(
      PlannerErrorCode.ProfileMismatch,
      `profile was measured on ${file.hardware.name}, not ${hardware.name}`,
      'hardware',
    );
  }
  file.points.forEach((p, k) => {
    if (p.layerMs && p.layerMs.length !== L) {
      throw new PlannerError(
        PlannerErrorCode.ProfileMismatch,
        `profile field points.${k}.layerMs: has ${p.layerMs.length} entries, the model has ${L} layers`,
        `points.${k}.layerMs`,
      );
    }
  });
  const knots = [...new Set(file.points.map((p) => p.newTokens))].sort((a, b) => a - b);
  const K = knots.length;
  // Series 0..L-1 are the layers, series L is the time outside the layers.
  const a = new Float64Array(K * (L + 1));
  const c = new Float64Array(K * (L + 1));
  knots.forEach((knot, k) => {
    const group = file.points.filter((p) => p.newTokens === knot);
    const xs = group.map((p) => p.contextTokens);
    for (let s = 0; s <= L; s++) {
      const ts = group.map((p) =>
        s === L ? p.outsideLayersMs : (p.layerMs?.[s] ?? p.decoderLayerMs ?? 0),
      );
      const line = fitLine(xs, ts);
      a[k * (L + 1) + s] = line.a;
      c[k * (L + 1) + s] = line.c;
    }
  });

  const evaluate = (shape: BatchShape, series: number): number => {
    const x = shape.contextTokens;
    const at = (k: number): number =>
      (a[k * (L + 1) + series] ?? 0) + (c[k * (L + 1) + series] ?? 0) * x;
    const n = shape.newTokens;
    if (K === 1 || n <= (knots[0] ?? 0)) return Math.max(0, at(0));
    let hi = 1;
    while (hi < K - 1 && (knots[hi] ?? 0) < n) hi++;
    const lo = hi - 1;
    const n0 = knots[lo] ?? 0;
    const n1 = knots[hi] ?? 1;
    const w = (n - n0) / (n1 - n0);
    return Math.max(0, at(lo) + w * (at(hi) - at(lo)));
  };

  return {
    source: 'measured',
    numLayers: L,
    fillLayerComputeMs(shape, out) {
      for (let i = 0; i < L; i++) out[i] = evaluate(shape, i);
    },
    outsideLayersMs(shape) {
      return evaluate(shape, L);
    },
  };
}
