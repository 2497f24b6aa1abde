import { describe, expect, it } from 'vitest';
import { computePlan, intervalDisplay, planToWire } from '../../src/operator/plan.ts';
import { plannerPort } from '../../src/operator/planner-port.ts';
import { InvalidSpecError } from '../../src/operator/errors.ts';
import { PlanWireSchema } from '../../src/api/index.ts';
import { serveEnv } from '../../src/operator/pod.ts';
import { builtinModel, decoderLayerBytes, offloadedLayerCount } from '../../src/planner/index.ts';
import { owner } from './fixtures.ts';

const now = new Date('2025-01-01T00:00:00Z');
const planner = plannerPort();

describe('initial plan', () => {
  it('uses the planner when it knows model and GPU, within the spec bounds', () => {
    const o = owner({
      model: { name: 'llama-13b', source: { hostPath: { path: '/m' } } },
      resources: { gpu: { product: 'a100-40gb' }, memory: '8Gi' },
      slo: { ttftMs: 5000, tpotMs: 200 },
    });
    const plan = computePlan(o.spec, 1, planner, now);
    expect(plan.basis).toBe('planner');
    expect(plan.intervalMin).not.toBeNull();
    expect(plan.hostMemoryBytes).toBeGreaterThan(0);
    expect(plan.podMemoryBytes).toBe(8 * 2 ** 30 + plan.hostMemoryBytes);
    expect(plan.offloadedLayersMax).toBeGreaterThan(0);
    expect(PlanWireSchema.safeParse(planToWire(plan, o.spec)).success).toBe(true);
  });

  it('falls back to the spec bounds for a model the catalog does not know', () => {
    const o = owner({ offload: { interval: { min: 2, max: 6 }, hostMemoryLimit: '1Gi' } });
    const plan = computePlan(o.spec, 4, planner, now);
    expect(plan).toMatchObject({
      basis: 'fallback',
      intervalMin: 2,
      intervalMax: 6,
      hostMemoryBytes: 2 ** 30,
      specGeneration: 4,
    });
    expect(plan.detail).toContain('not in the planner catalog');
    expect(intervalDisplay(plan)).toBe('2-6');
  });

  it('refuses an explicit catalog name the catalog lacks as InvalidModel', () => {
    const o = owner({
      model: { name: 'x', catalogName: 'no-such-model', source: { hostPath: { path: '/m' } } },
    });
    expect(() => computePlan(o.spec, 1, planner, now)).toThrow(InvalidSpecError);
    try {
      computePlan(o.spec, 1, planner, now);
    } catch (error) {
      expect((error as InvalidSpecError).reason).toBe('InvalidModel');
      expect((error as InvalidSpecError).field).toBe('spec.model.catalogName');
    }
  });

  it('refuses a fixed interval whose layers exceed the host-memory limit as PlanInfeasible', () => {
    const o = owner({
      model: { name: 'llama-13b', source: { hostPath: { path: '/m' } } },
      offload: { mode: 'fixed', interval: { min: 1, max: 1 }, hostMemoryLimit: '1Gi' },
    });
    expect(() => computePlan(o.spec, 1, planner, now)).toThrow(/more than the limit/);
  });

  it("sizes a catalog model's host pool at the width its engine stores, and tells the pod", () => {
    const fixed = (dtype?: 'float32' | 'bfloat16') =>
      owner({
        model: {
          name: 'llama-13b',
          source: { hostPath: { path: '/m' } },
          ...(dtype ? { dtype } : {}),
        },
        offload: { mode: 'fixed', interval: { min: 4, max: 4 } },
      });
    const model = builtinModel('llama-13b');
    const layers = offloadedLayerCount(4, model.numLayers);
    const auto = fixed();
    const plan = computePlan(auto.spec, 1, planner, now);
    // auto: the catalog's fp16 checkpoint, stored as fp16 (2 bytes a weight), not fp32.
    expect(plan.hostMemoryBytes).toBe(layers * decoderLayerBytes(model));
    expect(decoderLayerBytes(model)).toBe(317_204_480 * 2); // 4d² + 3df + 2d params at 2 bytes
    const env = serveEnv(auto, plan, '/models/llama-13b');
    expect(env).toContainEqual({ name: 'SELECTN_DTYPE', value: 'auto' });
    expect(env).toContainEqual({
      name: 'SELECTN_HOST_MEMORY',
      value: String(layers * decoderLayerBytes(model)),
    });
    const wide = computePlan(fixed('float32').spec, 1, planner, now);
    expect(wide.hostMemoryBytes).toBe(2 * plan.hostMemoryBytes);
    const bf16 = fixed('bfloat16');
    const half = computePlan(bf16.spec, 1, planner, now);
    expect(half.hostMemoryBytes).toBe(plan.hostMemoryBytes);
    expect(serveEnv(bf16, half, '/m')).toContainEqual({ name: 'SELECTN_DTYPE', value: 'bfloat16' });
  });

  it('disables offloading on request', () => {
    const plan = computePlan(owner({ offload: { mode: 'disabled' } }).spec, 1, planner, now);
    expect(plan).toMatchObject({
      basis: 'disabled',
      intervalMin: null,
      intervalMax: null,
      hostMemoryBytes: 0,
    });
    expect(intervalDisplay(plan)).toBe('off');
  });
});
