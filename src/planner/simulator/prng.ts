// Seeded pseudo-random numbers (SplitMix32 core) and the distributions the traces use.
// Deterministic across platforms: only 32-bit integer arithmetic and Math.log/sqrt/cos.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  exponential(mean: number): number;
  normal(): number;
  /** exp(N(ln median, sigma^2)). */
  logNormal(median: number, sigma: number): number;
  /** Gamma with the given shape and mean (Marsaglia-Tsang). */
  gamma(shape: number, mean: number): number;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
  const normal = (): number => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const gammaUnit = (shape: number): number => {
    if (shape < 1) return gammaUnit(shape + 1) * Math.pow(1 - next(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = 1 - next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return {
    next,
    exponential: (mean) => -Math.log(1 - next()) * mean,
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    gamma: (shape, mean) => (gammaUnit(shape) * mean) / shape,
  };
}
