// Per-bus copy-bandwidth budgets (DESIGN.md section 2, per-bus coordination), as pure functions:
// pods whose devices share a PCIe switch or root port are grouped by bus, and the bus's capacity
// is split max-min fair over their reported demand (each pod gets its demand if the fair share
// covers it; what it leaves is shared by the others, in equal parts). A pod alone on its bus, or
// on a bus nobody reported, is not throttled (budget null).

/** Max-min fair shares of `capacity` over `demands` (same order); sums to min(capacity, total). */
export function maxMinFair(capacity: number, demands: readonly number[]): number[] {
  if (!(capacity >= 0)) throw new RangeError(`capacity must be >= 0, got ${capacity}`);
  for (const d of demands) if (!(d >= 0)) throw new RangeError(`demands must be >= 0, got ${d}`);
  const shares = demands.map(() => 0);
  let left = capacity;
  let open = demands.map((_, i) => i);
  while (open.length > 0 && left > 0) {
    const fair = left / open.length;
    const satisfied = open.filter((i) => (demands[i] ?? 0) - (shares[i] ?? 0) <= fair);
    if (satisfied.length === 0) {
      for (const i of open) shares[i] = (shares[i] ?? 0) + fair;
      break;
    }
    for (const i of satisfied) {
      const need = (demands[i] ?? 0) - (shares[i] ?? 0);
      shares[i] = demands[i] ?? 0;
      left -= need;
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return shares;
}

export interface BusMember {
  pod: string;
  /** Bus key (busKey of src/api), or null when the pod reported no bus identity. */
  bus: string | null;
  /** Copy rate the pod would use unpaced, bytes/s (telemetry bandwidth.demandBytesPerSecond). */
  demandBytesPerS: number;
  /** Copy bandwidth the pod measured alone at start-up, bytes/s (0: not measured). */
  measuredBytesPerS: number;
}

export interface BusBudget {
  /** Budget in bytes/s; null: not throttled. */
  budgetBytesPerS: number | null;
  /** Why, in one line. */
  detail: string;
}

/**
 * Budgets for every pod: pods sharing a bus split its capacity max-min fair over their demand.
 * The capacity of a bus is what its pods measured alone at start-up (the largest figure: each
 * measured the whole link), or `capacityOf(bus)` when the node says (topology labels).
 */
export function busBudgets(
  members: readonly BusMember[],
  capacityOf: (bus: string) => number | undefined = () => undefined,
): Map<string, BusBudget> {
  const out = new Map<string, BusBudget>();
  const groups = new Map<string, BusMember[]>();
  for (const m of members) {
    if (m.bus === null) {
      out.set(m.pod, { budgetBytesPerS: null, detail: 'no bus identity: unpaced' });
      continue;
    }
    const list = groups.get(m.bus) ?? [];
    list.push(m);
    groups.set(m.bus, list);
  }
  for (const [bus, list] of groups) {
    const capacity = capacityOf(bus) ?? Math.max(0, ...list.map((m) => m.measuredBytesPerS));
    if (list.length < 2 || capacity <= 0) {
      for (const m of list)
        out.set(m.pod, {
          budgetBytesPerS: null,
          detail: list.length < 2 ? `alone on bus ${bus}: unpaced` : `bus ${bus}: capacity unknown`,
        });
      continue;
    }
    // Every pod keeps a floor (an eighth of an equal part), so that one that asks for nothing
    // now can still start copying; the rest goes max-min fair over the demand above the floor,
    // and what nobody asked for is split equally (the bus is never left idle by budgets).
    const n = list.length;
    const floor = capacity / n / 8;
    const fair = maxMinFair(
      capacity - n * floor,
      list.map((m) => Math.max(0, m.demandBytesPerS - floor)),
    );
    const spare = (capacity - n * floor - fair.reduce((a, b) => a + b, 0)) / n;
    list.forEach((m, i) => {
      const budget = floor + (fair[i] ?? 0) + spare;
      out.set(m.pod, {
        budgetBytesPerS: budget,
        detail: `bus ${bus}: ${list.length} pods share ${(capacity / 1e9).toFixed(2)} GB/s, max-min fair over demand ${(m.demandBytesPerS / 1e9).toFixed(2)} GB/s -> ${(budget / 1e9).toFixed(2)} GB/s`,
      });
    });
  }
  return out;
}
