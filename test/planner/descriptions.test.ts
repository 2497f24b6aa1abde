import { describe, expect, it } from 'vitest';
import {
  BUILTIN_HARDWARE,
  BUILTIN_MODELS,
  HardwareDescription,
  ModelDescription,
  PlannerError,
  builtinModel,
  kvBytesPerToken,
  parseHardwareDescription,
  parseModelDescription,
  totalParams,
} from '../../src/planner/index.ts';

function errorOf(fn: () => unknown): PlannerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PlannerError) return error;
    throw error;
  }
  throw new Error('expected a PlannerError');
}

describe('model and hardware descriptions', () => {
  it('catalog entries validate and have the published sizes', () => {
    for (const m of BUILTIN_MODELS) expect(ModelDescription.safeParse(m).success).toBe(true);
    for (const h of BUILTIN_HARDWARE) expect(HardwareDescription.safeParse(h).success).toBe(true);
    const billions = (name: string): number => totalParams(builtinModel(name)) / 1e9;
    expect(billions('llama-13b')).toBeCloseTo(13.0, 1);
    expect(billions('opt-13b')).toBeCloseTo(12.9, 1);
    expect(billions('llama-3-8b')).toBeCloseTo(8.0, 1);
    expect(billions('llama-3-70b')).toBeCloseTo(70.6, 1);
    expect(kvBytesPerToken(builtinModel('llama-13b'))).toBe(819200);
    expect(kvBytesPerToken(builtinModel('llama-3-8b'))).toBe(131072);
  });

  it('unknown names list the valid ones', () => {
    expect(errorOf(() => builtinModel('gpt-5')).message).toContain(
      'llama-13b, opt-13b, llama-3-8b, llama-3-70b',
    );
  });

  it('parses YAML and JSON descriptions and names the bad field', () => {
    const yaml = `name: tiny\narchitecture: llama\nnumLayers: 4\nhiddenSize: 256\nnumAttentionHeads: 8\nnumKeyValueHeads: 2\nintermediateSize: 512\nvocabSize: 1000\nmaxPositionEmbeddings: 512\ndtypeBytes: 2\ntiedEmbeddings: true\n`;
    expect(parseModelDescription(yaml, 'x').numLayers).toBe(4);
    expect(parseModelDescription(JSON.stringify({ ...builtinModel('opt-13b') }), 'x').name).toBe(
      'opt-13b',
    );
    const bad = errorOf(() =>
      parseModelDescription(yaml.replace('numLayers: 4', 'numLayers: -4'), 'x'),
    );
    expect(bad.message).toMatch(/^model file field numLayers:/);
    expect(bad.field).toBe('numLayers');
    expect(
      errorOf(() =>
        parseModelDescription(yaml.replace('numKeyValueHeads: 2', 'numKeyValueHeads: 3'), 'x'),
      ).field,
    ).toBe('numKeyValueHeads');
    expect(errorOf(() => parseModelDescription('name: [unclosed', 'x')).message).toContain(
      'not valid YAML or JSON',
    );
    const gpu = `name: mygpu\ngpuMemoryBytes: 24e9\nmemoryBandwidthBytesPerS: 3e11\npeakFlopsPerS: 1.2e14\nhostLink: { name: PCIe 4.0 x16, minBytesPerS: 1.2e10, maxBytesPerS: 2.4e10 }\n`;
    expect(parseHardwareDescription(gpu).hostLink.maxBytesPerS).toBe(2.4e10);
    expect(
      errorOf(() =>
        parseHardwareDescription(gpu.replace('minBytesPerS: 1.2e10', 'minBytesPerS: 5e10')),
      ).field,
    ).toBe('hostLink.minBytesPerS');
    expect(errorOf(() => parseHardwareDescription(gpu + 'extra: 1\n')).message).toContain(
      'GPU file',
    );
  });

  it('imports Hugging Face config.json for Llama-family and OPT models', () => {
    const llama = {
      model_type: 'llama',
      num_hidden_layers: 40,
      hidden_size: 5120,
      num_attention_heads: 40,
      intermediate_size: 13824,
      vocab_size: 32000,
      max_position_embeddings: 2048,
      torch_dtype: 'float16',
    };
    expect(parseModelDescription(JSON.stringify(llama), 'llama-13b')).toEqual({
      ...builtinModel('llama-13b'),
    });
    const opt = {
      model_type: 'opt',
      num_hidden_layers: 40,
      hidden_size: 5120,
      num_attention_heads: 40,
      ffn_dim: 20480,
      vocab_size: 50272,
      max_position_embeddings: 2048,
      word_embed_proj_dim: 5120,
      torch_dtype: 'float16',
    };
    expect(parseModelDescription(JSON.stringify(opt), 'opt-13b')).toEqual({
      ...builtinModel('opt-13b'),
    });
    expect(
      errorOf(() => parseModelDescription(JSON.stringify({ ...llama, model_type: 'gpt2' }), 'x'))
        .message,
    ).toContain('"gpt2" is not supported');
    const missing: Record<string, unknown> = { ...llama };
    delete missing['hidden_size'];
    expect(errorOf(() => parseModelDescription(JSON.stringify(missing), 'x')).message).toMatch(
      /config\.json field hidden_size/,
    );
  });
});
