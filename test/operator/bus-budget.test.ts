import { describe, expect, it } from 'vitest';
import { busBudgets, maxMinFair } from '../../src/operator/bus-budget.ts';

describe('maxMinFair', () => {
  it('gives small demands in full and splits the rest equally', () => {
    expect(maxMinFair(10, [2, 8, 8])).toEqual([2, 4, 4]);
    expect(maxMinFair(10, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(maxMinFair(9, [10, 10, 10])).toEqual([3, 3, 3]);
    expect(maxMinFair(10, [])).toEqual([]);
    expect(maxMinFair(0, [1, 2])).toEqual([0, 0]);
  });

  it('never hands out more than the capacity nor more than a demand', () => {
    const demands = [0.5, 7, 3, 3.2, 11];
    const shares = maxMinFair(12, demands);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(12, 9);
    shares.forEach((s, i) => {
      expect(s).toBeLessThanOrEqual((demands[i] ?? 0) + 1e-9);
    });
  });

  it('refuses negative or NaN inputs', () => {
    expect(() => maxMinFair(-1, [1])).toThrow(/capacity/);
    expect(() => maxMinFair(1, [Number.NaN])).toThrow(/demands/);
  });
});

describe('busBudgets', () => {
  const GB = 1e9;
  it('splits a shared bus over demand and leaves lone pods and unknown buses unpaced', () => {
    const budgets = busBudgets([
      { pod: 'a', bus: 'n/sw0', demandBytesPerS: 2 * GB, measuredBytesPerS: 16 * GB },
      { pod: 'b', bus: 'n/sw0', demandBytesPerS: 20 * GB, measuredBytesPerS: 15 * GB },
      { pod: 'c', bus: 'n/sw1', demandBytesPerS: 20 * GB, measuredBytesPerS: 16 * GB },
      { pod: 'd', bus: null, demandBytesPerS: 20 * GB, measuredBytesPerS: 16 * GB },
    ]);
    const a = budgets.get('a')?.budgetBytesPerS ?? 0;
    const b = budgets.get('b')?.budgetBytesPerS ?? 0;
    expect(a + b).toBeCloseTo(16 * GB, 0);
    expect(a).toBeCloseTo(2 * GB, 0);
    expect(b).toBeCloseTo(14 * GB, 0);
    expect(budgets.get('c')?.budgetBytesPerS).toBeNull();
    expect(budgets.get('d')?.budgetBytesPerS).toBeNull();
    expect(budgets.get('b')?.detail).toMatch(/bus n\/sw0: 2 pods share 16\.00 GB\/s/);
  });

  it("uses the node's capacity when known, keeps a floor for an idle pod, and leaves no spare", () => {
    const budgets = busBudgets(
      [
        { pod: 'a', bus: 'n/sw0', demandBytesPerS: 0, measuredBytesPerS: 16 * GB },
        { pod: 'b', bus: 'n/sw0', demandBytesPerS: 1 * GB, measuredBytesPerS: 16 * GB },
      ],
      (bus) => (bus === 'n/sw0' ? 8 * GB : undefined),
    );
    const a = budgets.get('a')?.budgetBytesPerS ?? 0;
    const b = budgets.get('b')?.budgetBytesPerS ?? 0;
    expect(a + b).toBeCloseTo(8 * GB, 0);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(1 * GB);
  });
});
