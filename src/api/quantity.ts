// Kubernetes resource quantities ("4Gi", "500m", "2", 1024): the subset the API accepts for CPU
// and memory, parsed to plain numbers and written back in canonical binary form.
import { z } from 'zod';

/** Non-negative decimal with an optional binary or decimal suffix; no exponent form. */
export const QUANTITY_PATTERN =
  '^([0-9]+(\\.[0-9]+)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$';
const QUANTITY_RE = new RegExp(QUANTITY_PATTERN);

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export type Quantity = number | string;

/** A quantity field: an integer or a string such as "4Gi" (int-or-string in the CRD). */
export function quantity(description: string): z.ZodType<Quantity> {
  return z
    .union([
      z.number().int().nonnegative(),
      z.string().regex(QUANTITY_RE, 'must be a quantity such as 4Gi, 512Mi or 500m'),
    ])
    .meta({ description, 'x-kubernetes-int-or-string': true });
}

export function isQuantity(value: unknown): value is Quantity {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0;
  return typeof value === 'string' && QUANTITY_RE.test(value);
}

/** Parses a quantity to its value in base units (bytes, cores). Throws on a malformed value. */
export function parseQuantity(value: Quantity): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid quantity ${value}`);
    return value;
  }
  const match = QUANTITY_RE.exec(value);
  if (!match) throw new Error(`invalid quantity "${value}"`);
  const number = Number(match[1]);
  const suffix = match[3] ?? '';
  const factor = SUFFIX[suffix];
  if (factor === undefined) throw new Error(`invalid quantity suffix "${suffix}"`);
  return number * factor;
}

/** Bytes of a memory quantity, rounded up to a whole byte. */
export function quantityToBytes(value: Quantity): number {
  return Math.ceil(parseQuantity(value));
}

/** Millicores of a CPU quantity, rounded up. */
export function quantityToMillicores(value: Quantity): number {
  return Math.ceil(parseQuantity(value) * 1000 - 1e-9);
}

/** Writes bytes as the largest exact binary unit ("17Gi", "1536Mi", "1000"). */
export function formatBytes(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`invalid byte count ${bytes}`);
  if (bytes === 0) return '0';
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const;
  for (const unit of units) {
    const factor = SUFFIX[unit] ?? 1;
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** Writes millicores as cores when whole ("2") and as millicores otherwise ("1500m"). */
export function formatMillicores(millicores: number): string {
  if (!Number.isInteger(millicores) || millicores < 0) {
    throw new Error(`invalid millicore count ${millicores}`);
  }
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}
