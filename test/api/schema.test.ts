import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_GPU_RESOURCE,
  MAX_REPLICAS,
  SelectNDeploymentSchema,
  SpecSchema,
} from '../../src/api/index.ts';
import { deploymentInput, specInput } from './fixtures.ts';

function firstIssue(input: unknown): { path: string; message: string } {
  const result = SpecSchema.safeParse(input);
  if (result.success) throw new Error('expected a validation error');
  const issue = result.error.issues[0];
  return { path: issue?.path.map(String).join('.') ?? '', message: issue?.message ?? '' };
}

describe('SelectNDeployment spec defaults', () => {
  it('fills every group from an almost empty spec', () => {
    const spec = SpecSchema.parse({ model: { name: 'm', source: { hostPath: { path: '/m' } } } });
    expect(spec.replicas).toBe(1);
    expect(spec.slo).toEqual({ ttftMs: 2000, tpotMs: 100, percentile: 99 });
    expect(spec.offload).toEqual({ mode: 'auto', layerSelection: 'nested' });
    expect(spec.resources.gpu).toEqual({ count: 1, resourceName: DEFAULT_GPU_RESOURCE });
    expect(spec.resources.cpu).toBe('2');
    expect(spec.resources.memory).toBe('4Gi');
    expect(spec.server.image).toBeUndefined(); // the operator's --server-image applies
    expect(spec.server.port).toBe(8000);
    expect(spec.server.device).toBe('cuda');
    expect(spec.template.localRunner).toBe(false);
    expect(spec.rollout).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(spec.autoscaling.enabled).toBe(false);
    expect(spec.model.format).toBe('safetensors');
    expect(spec.model.dtype).toBe('auto');
  });

  it('keeps given values over defaults', () => {
    const spec = SpecSchema.parse(specInput({ slo: { ttftMs: 300, tpotMs: 20, percentile: 95 } }));
    expect(spec.slo).toEqual({ ttftMs: 300, tpotMs: 20, percentile: 95 });
    expect(spec.replicas).toBe(2);
  });

  it('parses a whole resource', () => {
    const dep = SelectNDeploymentSchema.parse(deploymentInput('a'));
    expect(dep.metadata.name).toBe('a');
    expect(dep.spec.model.source.hostPath?.path).toBe('/models/tiny-llama');
  });
});

describe('SelectNDeployment spec validation names the field', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['negative replicas', specInput({ replicas: -1 }), 'replicas', /0/],
    ['too many replicas', specInput({ replicas: MAX_REPLICAS + 1 }), 'replicas', /1000/],
    ['zero ttft', specInput({ slo: { ttftMs: 0, tpotMs: 10 } }), 'slo.ttftMs', /0/],
    ['negative tpot', specInput({ slo: { ttftMs: 10, tpotMs: -1 } }), 'slo.tpotMs', /0/],
    ['percentile below 50', specInput({ slo: { percentile: 10 } }), 'slo.percentile', /50/],
    [
      'interval min above max',
      specInput({ offload: { interval: { min: 8, max: 2 } } }),
      'offload.interval.min',
      /min must be <= interval.max/,
    ],
    [
      'fixed mode with a range',
      specInput({ offload: { mode: 'fixed', interval: { min: 2, max: 4 } } }),
      'offload.interval',
      /fixed/,
    ],
    [
      'fixed mode without interval',
      specInput({ offload: { mode: 'fixed' } }),
      'offload.interval',
      /fixed/,
    ],
    [
      'disabled mode with interval',
      specInput({ offload: { mode: 'disabled', interval: { min: 2, max: 2 } } }),
      'offload.interval',
      /disabled/,
    ],
    [
      'two model sources',
      specInput({
        model: { name: 'm', source: { hostPath: { path: '/a' }, pvc: { claimName: 'c' } } },
      }),
      'model.source',
      /exactly one/,
    ],
    [
      'no model source',
      specInput({ model: { name: 'm', source: {} } }),
      'model.source',
      /exactly one/,
    ],
    [
      'relative host path',
      specInput({ model: { name: 'm', source: { hostPath: { path: 'rel' } } } }),
      'model.source.hostPath.path',
      /absolute/,
    ],
    [
      'bad memory quantity',
      specInput({ resources: { memory: '4 GB' } }),
      'resources.memory',
      /quantity/,
    ],
    [
      'autoscaling min above max',
      specInput({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
      'autoscaling.minReplicas',
      /minReplicas <= maxReplicas/,
    ],
    [
      'autoscaling max above limit',
      specInput({ autoscaling: { maxReplicas: MAX_REPLICAS + 1 } }),
      'autoscaling.maxReplicas',
      /1000/,
    ],
    [
      'both rollout knobs zero',
      specInput({ rollout: { maxSurge: 0, maxUnavailable: '0%' } }),
      'rollout',
      /both be zero/,
    ],
    ['bad surge', specInput({ rollout: { maxSurge: 'half' } }), 'rollout.maxSurge', /percentage/],
    ['unknown device', specInput({ server: { device: 'tpu' as 'cpu' } }), 'server.device', /cuda/],
    ['missing model', { replicas: 1 }, 'model', /object/],
  ];
  for (const [name, input, path, message] of cases) {
    it(name, () => {
      const issue = firstIssue(input);
      expect(issue.path).toBe(path);
      expect(issue.message).toMatch(message);
    });
  }
});

describe('SelectNDeployment spec properties', () => {
  it('accepts every ordered interval pair and refuses every inverted one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (a, b) => {
          const result = SpecSchema.safeParse(
            specInput({ offload: { interval: { min: a, max: b } } }),
          );
          expect(result.success).toBe(a <= b);
        },
      ),
    );
  });

  it('accepts autoscaling bounds exactly when min <= max <= limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_REPLICAS }),
        fc.integer({ min: 1, max: MAX_REPLICAS }),
        (min, max) => {
          const input = specInput({ autoscaling: { minReplicas: min, maxReplicas: max } });
          expect(SpecSchema.safeParse(input).success).toBe(min <= max);
        },
      ),
    );
  });
});
