// Parsing of byte sizes ("40GiB", "512MB", "1048576") and bandwidths ("16GB/s", "2e9").

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?)?b?(?:\/s)?\s*$/i;

/**
 * Parses a positive quantity with an optional decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti)
 * suffix, an optional "B" and an optional "/s". Returns undefined when the text is not one.
 */
export function parseQuantity(text: string): number | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const multiplier = SUFFIX[(match[2] ?? '').toLowerCase()];
  if (multiplier === undefined || !Number.isFinite(value)) return undefined;
  return Math.round(value * multiplier);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}
