import { describe, expect, it } from 'vitest';
import {
  PlannerError,
  analyticProfile,
  builtinHardware,
  builtinModel,
  measuredProfile,
  validateProfileFile,
} from '../../src/planner/index.ts';

const model = builtinModel('llama-13b');
const hardware = builtinHardware('a100-40gb');

describe('layer profiles', () => {
  it('analytic: decode is bound by weight reads, long prefills by FLOPs', () => {
    const profile = analyticProfile(model, hardware);
    const out = new Float64Array(40);
    profile.fillLayerComputeMs({ sequences: 1, newTokens: 1, contextTokens: 512 }, out);
    const weightsMs = (634_388_480 / (1555e9 * 0.8)) * 1000;
    expect(out[0]).toBeGreaterThan(weightsMs);
    expect(out[0]).toBeLessThan(weightsMs * 1.05 + 0.03);
    profile.fillLayerComputeMs({ sequences: 1, newTokens: 2048, contextTokens: 2048 }, out);
    expect(out[39]).toBeGreaterThan(((2 * 317e6 * 2048) / (312e12 * 0.6)) * 1000);
  });

  const file = (points: unknown[]): unknown => ({
    version: 1,
    model: { name: 'llama-13b', numLayers: 40 },
    hardware: { name: 'a100-40gb' },
    points,
  });

  it('measured: reproduces its points and interpolates between them', () => {
    const profile = measuredProfile(
      validateProfileFile(
        file([
          {
            sequences: 1,
            newTokens: 1,
            contextTokens: 100,
            decoderLayerMs: 0.5,
            outsideLayersMs: 1,
          },
          {
            sequences: 1,
            newTokens: 1,
            contextTokens: 1100,
            decoderLayerMs: 0.7,
            outsideLayersMs: 1,
          },
          {
            sequences: 1,
            newTokens: 101,
            contextTokens: 100,
            layerMs: Array.from({ length: 40 }, (_, i) => 1 + i / 40),
            outsideLayersMs: 3,
          },
        ]),
      ),
      model,
      hardware,
    );
    const out = new Float64Array(40);
    profile.fillLayerComputeMs({ sequences: 1, newTokens: 1, contextTokens: 600 }, out);
    expect(out[5]).toBeCloseTo(0.6, 9);
    profile.fillLayerComputeMs({ sequences: 1, newTokens: 51, contextTokens: 100 }, out);
    expect(out[0]).toBeCloseTo(0.75, 9);
    expect(out[20]).toBeCloseTo((0.5 + 1.5) / 2, 9);
    expect(
      profile.outsideLayersMs({ sequences: 1, newTokens: 101, contextTokens: 100 }),
    ).toBeCloseTo(3, 9);
  });

  it('refuses files for another model or with bad fields, naming them', () => {
    const point = {
      sequences: 1,
      newTokens: 1,
      contextTokens: 1,
      decoderLayerMs: 1,
      outsideLayersMs: 1,
    };
    expect(() =>
      measuredProfile(
        validateProfileFile({
          ...(file([point]) as object),
          model: { name: 'opt-13b', numLayers: 40 },
        }),
        model,
      ),
    ).toThrow(/not llama-13b/);
    expect(() => validateProfileFile({ ...(file([point]) as object), version: 2 })).toThrow(
      /field version/,
    );
    expect(() => validateProfileFile(file([{ ...point, layerMs: [1] }]))).toThrow(
      /exactly one of layerMs and decoderLayerMs/,
    );
    const short = validateProfileFile(
      file([{ sequences: 1, newTokens: 1, contextTokens: 1, layerMs: [1, 2], outsideLayersMs: 1 }]),
    );
    expect(() => measuredProfile(short, model)).toThrow(PlannerError);
    expect(() => measuredProfile(short, model)).toThrow(/points\.0\.layerMs: has 2 entries/);
  });
});
