// Text (YAML or JSON) to validated descriptions; Hugging Face config.json import. No file I/O:
// callers read the file and pass its text.
import { load } from 'js-yaml';
import { z } from 'zod';
import { HardwareDescription } from './hardware.ts';
import { ModelDescription } from './model.ts';
import { PlannerError, PlannerErrorCode } from './errors.ts';
import { SUPPORTED_MODEL_TYPES, modelFamily } from './model-families.ts';

/** Parses YAML or JSON text (YAML is a superset of JSON) into a plain value. */
export function parseStructuredText(text: string, what: string): unknown {
  try {
    return load(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PlannerError(
      PlannerErrorCode.InvalidDescription,
      `${what}: not valid YAML or JSON (${reason ?? 'parse error'})`,
    );
  }
}

function firstIssue(error: z.ZodError, what: string): PlannerError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  const message = issue ? issue.message : 'invalid';
  return new PlannerError(
    PlannerErrorCode.InvalidDescription,
    `${what}${path ? ` field ${path}` : ''}: ${message}`,
    path || undefined,
  );
}

/** Validates a plain value as a model description, or throws naming the first bad field. */
export function validateModelDescription(value: unknown, what = 'model'): ModelDescription {
  const parsed = ModelDescription.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, what);
  return parsed.data;
}

export function validateHardwareDescription(
  value: unknown,
  what = 'hardware',
): HardwareDescription {
  const parsed = HardwareDescription.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, what);
  return parsed.data;
}

const HfTorchDtype = z.enum(['float16', 'bfloat16', 'float32', 'float8_e4m3fn']);
const DTYPE_BYTES = { float16: 2, bfloat16: 2, float32: 4, float8_e4m3fn: 1 } as const;

const HfLlamaConfig = z.object({
  model_type: z.enum(['llama', 'mistral', 'qwen2', 'qwen3', 'phi3']),
  num_hidden_layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().nullish(),
  intermediate_size: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  torch_dtype: HfTorchDtype.optional(),
  dtype: HfTorchDtype.optional(),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
});

const HfOptConfig = z.object({
  model_type: z.literal('opt'),
  num_hidden_layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  ffn_dim: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  word_embed_proj_dim: z.number().int().positive().optional(),
  torch_dtype: HfTorchDtype.optional(),
  dtype: HfTorchDtype.optional(),
  tie_word_embeddings: z.boolean().optional(),
});

/** Whether a plain value looks like a Hugging Face config.json (it has model_type). */
export function isHuggingFaceConfig(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'model_type' in value;
}

function refuse(field: string, message: string): never {
  throw new PlannerError(
    PlannerErrorCode.InvalidDescription,
    `config.json field ${field}: ${message}`,
    field,
  );
}

function shortJson(value: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, despite its declared type.
  const text = (JSON.stringify(value) as string | undefined) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const ROPE_TYPES = ['default', 'linear', 'llama3'];
const MOE_FIELDS = ['num_local_experts', 'num_experts', 'n_routed_experts'];

/** Settings no family runs (REFUSED_SETTINGS): quantized weights, experts, unknown RoPE scaling. */
function refuseUnsupportedSettings(c: Record<string, unknown>): void {
  const quant = c['quantization_config'];
  if (quant !== undefined && quant !== null) {
    const method =
      typeof quant === 'object' && 'quant_method' in quant ? quant.quant_method : undefined;
    refuse(
      'quantization_config',
      `${method !== undefined ? `quant_method ${shortJson(method)}` : shortJson(quant)}: quantized weights are not supported`,
    );
  }
  for (const field of MOE_FIELDS) {
    const n = c[field];
    if (typeof n === 'number' && n > 0) {
      refuse(field, `${n}: mixture-of-experts layers are not supported`);
    }
  }
  for (const field of ['rope_parameters', 'rope_scaling']) {
    const rope = c[field];
    if (rope === undefined || rope === null) continue;
    if (typeof rope !== 'object') refuse(field, `${shortJson(rope)} is not an object`);
    const r = rope as Record<string, unknown>;
    const key = 'rope_type' in r ? 'rope_type' : 'type' in r ? 'type' : undefined;
    const type = key === undefined ? 'default' : r[key];
    if (typeof type !== 'string' || !ROPE_TYPES.includes(type)) {
      refuse(
        `${field}.${key ?? 'rope_type'}`,
        `${shortJson(type)} is not supported (supported: ${ROPE_TYPES.join(', ')})`,
      );
    }
  }
}

/** Families whose attention honours sliding_window (the engine's windowed attention). */
const WINDOWED_TYPES = ['mistral', 'phi3'];

/**
 * The sliding window a llama-family config runs with, or undefined when every query attends its
 * whole context. Qwen2/Qwen3 window only the layers from max_window_layers on, which is refused.
 */
function slidingWindowOf(c: Record<string, unknown>, maxPositions: number): number | undefined {
  const modelType = String(c['model_type']);
  if ((modelType === 'qwen2' || modelType === 'qwen3') && c['use_sliding_window'] === true) {
    refuse(
      'use_sliding_window',
      'true (windows on the layers from max_window_layers on) is not supported',
    );
  }
  const raw = c['sliding_window'];
  let window: number | undefined;
  if (WINDOWED_TYPES.includes(modelType) && raw !== undefined && raw !== null) {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw <= 0) {
      refuse('sliding_window', `${shortJson(raw)} is not a positive integer`);
    }
    window = raw < maxPositions ? raw : undefined;
  }
  const layerTypes = c['layer_types'];
  if (Array.isArray(layerTypes)) {
    const expected = window === undefined ? 'full_attention' : 'sliding_attention';
    const other: unknown = (layerTypes as unknown[]).find((t) => t !== expected);
    if (other !== undefined) {
      refuse(
        'layer_types',
        `entry ${shortJson(other)} is not supported (every layer must be ${expected})`,
      );
    }
  }
  return window;
}

function ownerOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Converts a Hugging Face config.json (a family of MODEL_FAMILIES) to a model description. */
export function modelFromHuggingFaceConfig(value: unknown, name: string): ModelDescription {
  const raw = ownerOf(value);
  const modelType = 'model_type' in raw ? String(raw['model_type']) : '';
  const family = modelFamily(modelType);
  if (!family) {
    refuse(
      'model_type',
      `"${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  }
  refuseUnsupportedSettings(raw);
  if (family.architecture === 'opt') {
    const parsed = HfOptConfig.safeParse(value);
    if (!parsed.success) throw firstIssue(parsed.error, 'config.json');
    const c = parsed.data;
    if (c.word_embed_proj_dim !== undefined && c.word_embed_proj_dim !== c.hidden_size) {
      refuse(
        'word_embed_proj_dim',
        `${c.word_embed_proj_dim}: OPT models with an embedding projection are not supported`,
      );
    }
    return validateModelDescription(
      {
        name,
        architecture: 'opt',
        numLayers: c.num_hidden_layers,
        hiddenSize: c.hidden_size,
        numAttentionHeads: c.num_attention_heads,
        numKeyValueHeads: c.num_attention_heads,
        intermediateSize: c.ffn_dim,
        vocabSize: c.vocab_size,
        maxPositionEmbeddings: c.max_position_embeddings,
        dtypeBytes: DTYPE_BYTES[c.dtype ?? c.torch_dtype ?? 'float16'],
        tiedEmbeddings: c.tie_word_embeddings ?? true,
      },
      'config.json',
    );
  }
  const parsed = HfLlamaConfig.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, 'config.json');
  const c = parsed.data;
  const window = slidingWindowOf(raw, c.max_position_embeddings);
  const attentionBias = c.attention_bias ?? false;
  if (modelType === 'phi3' && (attentionBias || c.mlp_bias === true)) {
    refuse(
      attentionBias ? 'attention_bias' : 'mlp_bias',
      'true is not supported for phi3 (fused projections)',
    );
  }
  return validateModelDescription(
    {
      name,
      architecture: 'llama',
      numLayers: c.num_hidden_layers,
      hiddenSize: c.hidden_size,
      numAttentionHeads: c.num_attention_heads,
      numKeyValueHeads: c.num_key_value_heads ?? c.num_attention_heads,
      ...(c.head_dim !== undefined && c.head_dim !== null ? { headDim: c.head_dim } : {}),
      intermediateSize: c.intermediate_size,
      vocabSize: c.vocab_size,
      maxPositionEmbeddings: c.max_position_embeddings,
      dtypeBytes: DTYPE_BYTES[c.dtype ?? c.torch_dtype ?? 'float16'],
      tiedEmbeddings: c.tie_word_embeddings ?? false,
      ...(attentionBias || modelType === 'qwen2' ? { qkvBias: true } : {}),
      ...(attentionBias ? { outputBias: true } : {}),
      ...(c.mlp_bias === true ? { mlpBias: true } : {}),
      ...(modelType === 'qwen3' ? { qkNorm: true } : {}),
      ...(window !== undefined ? { slidingWindow: window } : {}),
    },
    'config.json',
  );
}

/**
 * Parses a model file's text: either our model description (YAML or JSON) or a Hugging Face
 * config.json (recognised by its model_type key; `fallbackName` names it).
 */
export function parseModelDescription(text: string, fallbackName: string): ModelDescription {
  const value = parseStructuredText(text, 'model file');
  if (isHuggingFaceConfig(value)) return modelFromHuggingFaceConfig(value, fallbackName);
  return validateModelDescription(value, 'model file');
}

export function parseHardwareDescription(text: string): HardwareDescription {
  return validateHardwareDescription(parseStructuredText(text, 'GPU file'), 'GPU file');
}
