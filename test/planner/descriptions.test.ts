import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MODEL_FAMILIES,
  analyticProfile,
  attendedPairs,
  decoderLayerBytes,
  modelFamiliesMarkdown,
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

  // Published config.json fields (the ones the import reads) of one checkpoint per family; the
  // parameter counts are the checkpoints' safetensors totals.
  const published: Record<string, { config: Record<string, unknown>; params: number }> = {
    'Qwen2.5-7B-Instruct': {
      config: {
        model_type: 'qwen2',
        hidden_size: 3584,
        intermediate_size: 18944,
        num_hidden_layers: 28,
        num_attention_heads: 28,
        num_key_value_heads: 4,
        vocab_size: 152064,
        max_position_embeddings: 32768,
        max_window_layers: 28,
        sliding_window: 131072,
        use_sliding_window: false,
        rope_theta: 1000000.0,
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
      },
      params: 7615616512,
    },
    'Qwen2.5-0.5B': {
      config: {
        model_type: 'qwen2',
        hidden_size: 896,
        intermediate_size: 4864,
        num_hidden_layers: 24,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        vocab_size: 151936,
        max_position_embeddings: 32768,
        sliding_window: 32768,
        use_sliding_window: false,
        tie_word_embeddings: true,
        torch_dtype: 'bfloat16',
      },
      params: 494032768,
    },
    'Qwen3-8B': {
      config: {
        model_type: 'qwen3',
        hidden_size: 4096,
        intermediate_size: 12288,
        num_hidden_layers: 36,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        head_dim: 128,
        vocab_size: 151936,
        max_position_embeddings: 40960,
        attention_bias: false,
        sliding_window: null,
        use_sliding_window: false,
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
      },
      params: 8190735360,
    },
    'Mistral-7B-v0.1': {
      config: {
        model_type: 'mistral',
        hidden_size: 4096,
        intermediate_size: 14336,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        vocab_size: 32000,
        max_position_embeddings: 32768,
        sliding_window: 4096,
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
      },
      params: 7241732096,
    },
    'Phi-3-mini-4k-instruct': {
      config: {
        model_type: 'phi3',
        hidden_size: 3072,
        intermediate_size: 8192,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 32,
        vocab_size: 32064,
        max_position_embeddings: 4096,
        original_max_position_embeddings: 4096,
        rope_scaling: null,
        sliding_window: 2047,
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
      },
      params: 3821079552,
    },
    'Llama-3.2-1B': {
      config: {
        model_type: 'llama',
        hidden_size: 2048,
        intermediate_size: 8192,
        num_hidden_layers: 16,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        head_dim: 64,
        vocab_size: 128256,
        max_position_embeddings: 131072,
        rope_scaling: {
          factor: 32.0,
          high_freq_factor: 4.0,
          low_freq_factor: 1.0,
          original_max_position_embeddings: 8192,
          rope_type: 'llama3',
        },
        tie_word_embeddings: true,
        torch_dtype: 'bfloat16',
      },
      params: 1235814400,
    },
  };

  it('imports one published checkpoint of every family with its exact parameter count', () => {
    const types = new Set<string>();
    for (const [name, { config, params }] of Object.entries(published)) {
      const m = parseModelDescription(JSON.stringify(config), name);
      expect(totalParams(m), name).toBe(params);
      types.add(String(config['model_type']));
    }
    for (const f of MODEL_FAMILIES)
      if (f.architecture === 'llama') expect(types).toContain(f.modelType);
    const qwen2 = parseModelDescription(
      JSON.stringify(published['Qwen2.5-7B-Instruct']?.config),
      'q',
    );
    expect(qwen2.qkvBias).toBe(true);
    expect(qwen2.slidingWindow).toBeUndefined(); // use_sliding_window: false
    expect(kvBytesPerToken(qwen2)).toBe(2 * 28 * 4 * 128 * 2);
    const qwen3 = parseModelDescription(JSON.stringify(published['Qwen3-8B']?.config), 'q3');
    expect(qwen3.qkNorm).toBe(true);
    expect(qwen3.headDim).toBe(128);
    expect(kvBytesPerToken(qwen3)).toBe(2 * 36 * 8 * 128 * 2);
    const mistral = parseModelDescription(
      JSON.stringify(published['Mistral-7B-v0.1']?.config),
      'm',
    );
    expect(mistral.slidingWindow).toBe(4096);
    const phi3 = parseModelDescription(
      JSON.stringify(published['Phi-3-mini-4k-instruct']?.config),
      'p',
    );
    expect(phi3.slidingWindow).toBe(2047);
    expect(decoderLayerBytes(phi3)).toBe((4 * 3072 * 3072 + 3 * 3072 * 8192 + 2 * 3072) * 2);
  });

  it('imports the committed family fixtures as the engine loads them', () => {
    const fixtures = join(import.meta.dirname, '..', 'fixtures');
    const read = (name: string) =>
      parseModelDescription(readFileSync(join(fixtures, name, 'config.json'), 'utf8'), name);
    const qwen3 = read('tiny-qwen3');
    // head_dim 32 with hidden 64 and 4 heads: q_proj is 128 wide, twice hidden / heads.
    expect(qwen3.headDim).toBe(32);
    expect(decoderLayerBytes(qwen3)).toBe(
      (64 * 128 + 2 * 64 * 64 + 128 * 64 + 3 * 64 * 160 + 2 * 64 + 2 * 32) * 4,
    );
    expect(read('tiny-qwen2')).toMatchObject({
      qkvBias: true,
      tiedEmbeddings: true,
      dtypeBytes: 2,
    });
    expect(read('tiny-mistral').slidingWindow).toBe(6);
    expect(read('tiny-phi3').slidingWindow).toBeUndefined();
  });

  it('refuses what no family runs with one line naming the field and its value', () => {
    const base = published['Qwen2.5-7B-Instruct']?.config ?? {};
    const refused = (over: Record<string, unknown>): PlannerError =>
      errorOf(() => parseModelDescription(JSON.stringify({ ...base, ...over }), 'x'));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model_type: 'gemma2' }, 'model_type', /"gemma2" is not supported \(supported: llama, /],
      [{ quantization_config: { quant_method: 'awq', bits: 4 } }, 'quantization_config', /"awq"/],
      [{ num_local_experts: 8 }, 'num_local_experts', /8: mixture-of-experts/],
      [{ model_type: 'qwen3', num_experts: 128 }, 'num_experts', /128/],
      [
        { rope_scaling: { type: 'yarn', factor: 4 } },
        'rope_scaling.type',
        /"yarn" is not supported/,
      ],
      [
        { rope_parameters: { rope_type: 'longrope', rope_theta: 1e4 } },
        'rope_parameters.rope_type',
        /"longrope"/,
      ],
      [{ use_sliding_window: true }, 'use_sliding_window', /true/],
      [
        { layer_types: ['full_attention', 'sliding_attention'] },
        'layer_types',
        /"sliding_attention"/,
      ],
      [{ model_type: 'phi3', attention_bias: true }, 'attention_bias', /phi3/],
    ];
    for (const [over, field, message] of cases) {
      const e = refused(over);
      expect(e.field, field).toBe(field);
      expect(e.message).toMatch(new RegExp(`^config\\.json field ${field.replace('.', '\\.')}: `));
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
    }
  });

  it('bounds attention FLOPs and KV reads by the sliding window', () => {
    const shape = { sequences: 1, newTokens: 1, contextTokens: 10000 };
    expect(attendedPairs(shape)).toBe(9999.5);
    expect(attendedPairs(shape, 4096)).toBe(4096);
    expect(attendedPairs({ ...shape, contextTokens: 100 }, 4096)).toBe(99.5);
    const mistral = parseModelDescription(
      JSON.stringify(published['Mistral-7B-v0.1']?.config),
      'm',
    );
    const full: typeof mistral = { ...mistral };
    delete full.slidingWindow;
    const h100 = parseHardwareDescription(
      'name: g\ngpuMemoryBytes: 80e9\nmemoryBandwidthBytesPerS: 2e12\npeakFlopsPerS: 7.5e14\nhostLink: { name: p, minBytesPerS: 2e10, maxBytesPerS: 2.5e10 }\n',
    );
    const ms = (m: typeof mistral, contextTokens: number): number => {
      const out = new Float64Array(m.numLayers);
      analyticProfile(m, h100).fillLayerComputeMs(
        { sequences: 64, newTokens: 64, contextTokens },
        out,
      );
      return out[0] ?? NaN;
    };
    expect(ms(mistral, 64 * 2000)).toBe(ms(full, 64 * 2000));
    expect(ms(mistral, 64 * 30000)).toBeLessThan(ms(full, 64 * 30000));
    expect(ms(mistral, 64 * 30000)).toBe(ms(mistral, 64 * 20000));
  });

  it("the README's model table is the code's", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const start = '<!-- model-families:start (generated from src/planner/model-families.ts) -->\n';
    const end = '<!-- model-families:end -->';
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    expect(from).toBeGreaterThan(0);
    expect(readme.slice(from + start.length, to)).toBe(`\n${modelFamiliesMarkdown()}\n`);
  });
});
