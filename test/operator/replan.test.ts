import { describe, expect, it } from 'vitest';
import { builtinModel, hostMemoryAtInterval, intervalOrder } from '../../src/planner/index.ts';
import { planFromMeasurement, ReplanError } from '../../src/operator/replan.ts';
import { planningInputs } from './replan-fixtures.ts';

const slo = { ttftMs: 3000, tpotMs: 150 };
const order = (n: number | null) => intervalOrder(n ?? 0);

describe('planFromMeasurement', () => {
  it('plans a model outside the catalog from its measured profile', () => {
    const plan = planFromMeasurement({
      planning: planningInputs('my-finetune'),
      slo,
      bounds: undefined,
      hostCeilingBytes: Infinity,
    });
    expect(plan.intervalMin).not.toBeNull();
    expect(order(plan.intervalMin)).toBeLessThanOrEqual(order(plan.intervalMax));
    const model = { ...builtinModel('llama-13b'), name: 'my-finetune' };
    expect(plan.hostMemoryBytes).toBe(hostMemoryAtInterval(model, plan.intervalMin ?? 0));
    expect(plan.offloadedLayers).toBeGreaterThan(0);
    expect(plan.detail).toMatch(/^my-finetune: measured profile/);
  });

  it('offloads less when the bandwidth it plans for drops', () => {
    const planning = planningInputs();
    const wide = planFromMeasurement({
      planning,
      slo,
      bounds: undefined,
      hostCeilingBytes: Infinity,
    });
    const narrow = planFromMeasurement({
      planning,
      slo,
      bounds: undefined,
      hostCeilingBytes: Infinity,
      bandwidthBytesPerS: { min: 1e9, max: 2e9 },
    });
    expect(order(narrow.intervalMin)).toBeGreaterThan(order(wide.intervalMin));
    expect(narrow.hostMemoryBytes).toBeLessThan(wide.hostMemoryBytes);
  });

  it('holds interval.min up when the pod cannot hold the host memory, and says so', () => {
    const planning = planningInputs();
    const free = planFromMeasurement({
      planning,
      slo,
      bounds: undefined,
      hostCeilingBytes: Infinity,
    });
    const ceiling = Math.floor(free.hostMemoryBytes / 2);
    const held = planFromMeasurement({
      planning,
      slo,
      bounds: undefined,
      hostCeilingBytes: ceiling,
    });
    expect(held.hostMemoryBytes).toBeLessThanOrEqual(ceiling);
    expect(order(held.intervalMin)).toBeGreaterThan(order(free.intervalMin));
    expect(held.intervalMax).toBe(free.intervalMax);
    expect(held.detail).toContain('held at');
  });

  it('keeps within spec bounds and refuses bounds the range misses', () => {
    const planning = planningInputs();
    const free = planFromMeasurement({
      planning,
      slo,
      bounds: undefined,
      hostCeilingBytes: Infinity,
    });
    const lo = (free.intervalMin ?? 1) + 1;
    const bounded = planFromMeasurement({
      planning,
      slo,
      bounds: { min: lo, max: lo + 2 },
      hostCeilingBytes: Infinity,
    });
    expect(bounded.intervalMin).toBe(lo);
    expect(order(bounded.intervalMax)).toBeLessThanOrEqual(lo + 2);
    const fmin = free.intervalMin ?? 0;
    expect(fmin).toBeGreaterThan(1);
    expect(() =>
      planFromMeasurement({
        planning,
        slo,
        bounds: { min: 1, max: fmin - 1 },
        hostCeilingBytes: Infinity,
      }),
    ).toThrow(/does not meet spec.offload.interval/);
  });

  it('refuses inputs that fail the planner schemas, naming the field', () => {
    const planning = planningInputs();
    const bad = { ...planning, model: { ...planning.model, numLayers: -1 } };
    let error: unknown;
    try {
      planFromMeasurement({ planning: bad, slo, bounds: undefined, hostCeilingBytes: Infinity });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplanError);
    expect((error as ReplanError).failure).toBe('InvalidInputs');
    expect((error as ReplanError).message).toMatch(/planning\.model field numLayers/);
  });

  it('says Infeasible when no interval meets the SLO', () => {
    let error: unknown;
    try {
      planFromMeasurement({
        planning: planningInputs(),
        slo: { ttftMs: 0.01, tpotMs: 0.01 },
        bounds: undefined,
        hostCeilingBytes: Infinity,
      });
    } catch (e) {
      error = e;
    }
    expect((error as ReplanError).failure).toBe('Infeasible');
  });
});
