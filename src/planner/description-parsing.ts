// Text (YAML or JSON) to validated descriptions; Hugging Face config.json import. No file I/O:
// callers read the file and pass its text.
import { load } from 'js-yaml';
import { z } from 'zod';
import { HardwareDescription } from './hardware.ts';
import { ModelDescription } from './model.ts';
import { PlannerError, PlannerErrorCode } from './errors.ts';

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
  model_type: z.enum(['llama', 'mistral']),
  num_hidden_layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().optional(),
  intermediate_size: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  torch_dtype: HfTorchDtype.optional(),
  tie_word_embeddings: z.boolean().optional(),
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
  tie_word_embeddings: z.boolean().optional(),
});

/** Whether a plain value looks like a Hugging Face config.json (it has model_type). */
export function isHuggingFaceConfig(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'model_type' in value;
}

/** Converts a Hugging Face config.json (Llama family or OPT) to a model description. */
export function modelFromHuggingFaceConfig(value: unknown, name: string): ModelDescription {
  const modelType =
    typeof value === 'object' && value !== null && 'model_type' in value
      ? String(value.model_type)
      : '';
  if (modelType === 'opt') {
    const parsed = HfOptConfig.safeParse(value);
    if (!parsed.success) throw firstIssue(parsed.error, 'config.json');
    const c = parsed.data;
    if (c.word_embed_proj_dim !== undefined && c.word_embed_proj_dim !== c.hidden_size) {
      throw new PlannerError(
        PlannerErrorCode.InvalidDescription,
        'config.json field word_embed_proj_dim: OPT models with an embedding projection are not supported',
        'word_embed_proj_dim',
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
        dtypeBytes: DTYPE_BYTES[c.torch_dtype ?? 'float16'],
        tiedEmbeddings: c.tie_word_embeddings ?? true,
      },
      'config.json',
    );
  }
  if (modelType === 'llama' || modelType === 'mistral') {
    const parsed = HfLlamaConfig.safeParse(value);
    if (!parsed.success) throw firstIssue(parsed.error, 'config.json');
    const c = parsed.data;
    return validateModelDescription(
      {
        name,
        architecture: 'llama',
        numLayers: c.num_hidden_layers,
        hiddenSize: c.hidden_size,
        numAttentionHeads: c.num_attention_heads,
        numKeyValueHeads: c.num_key_value_heads ?? c.num_attention_heads,
        ...(c.head_dim !== undefined ? { headDim: c.head_dim } : {}),
        intermediateSize: c.intermediate_size,
        vocabSize: c.vocab_size,
        maxPositionEmbeddings: c.max_position_embeddings,
        dtypeBytes: DTYPE_BYTES[c.torch_dtype ?? 'float16'],
        tiedEmbeddings: c.tie_word_embeddings ?? false,
      },
      'config.json',
    );
  }
  throw new PlannerError(
    PlannerErrorCode.InvalidDescription,
    `config.json field model_type: "${modelType}" is not supported (supported: llama, mistral, opt)`,
    'model_type',
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
