// Model descriptions: the transformer shapes the planner needs, validated with zod, and the
// sizes derived from them (bytes per decoder layer, KV cache bytes per token, FLOPs per token).
import { z } from 'zod';

export const ModelArchitecture = z
  .enum(['llama', 'opt'])
  .describe(
    'Decoder family: llama (RMSNorm, gated SiLU MLP with 3 matrices, rotary positions, no biases) ' +
      'or opt (LayerNorm, 2-matrix ReLU MLP, biases, learned position embeddings)',
  );
export type ModelArchitecture = z.infer<typeof ModelArchitecture>;

const positiveInt = z.number().int().positive();

export const ModelDescription = z
  .object({
    name: z.string().min(1).describe('Short name used in plans and reports, e.g. llama-13b'),
    architecture: ModelArchitecture,
    numLayers: positiveInt.describe('Number of decoder layers L'),
    hiddenSize: positiveInt.describe('Model width d (hidden_size)'),
    numAttentionHeads: positiveInt.describe('Query heads per layer'),
    numKeyValueHeads: positiveInt.describe(
      'Key/value heads per layer (equal to query heads without grouped-query attention)',
    ),
    headDim: positiveInt
      .optional()
      .describe('Width of one attention head; default hiddenSize / numAttentionHeads'),
    intermediateSize: positiveInt.describe(
      'Width of the MLP hidden layer (intermediate_size, ffn_dim)',
    ),
    vocabSize: positiveInt.describe('Vocabulary size (rows of the embedding and of the LM head)'),
    maxPositionEmbeddings: positiveInt.describe('Longest context the model supports, in tokens'),
    dtypeBytes: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .describe('Bytes per weight and per KV cache element (2 for fp16/bf16)'),
    tiedEmbeddings: z
      .boolean()
      .describe('Whether the LM head shares the input embedding matrix (no separate weights)'),
    qkvBias: z
      .boolean()
      .optional()
      .describe('llama family: q, k and v projections have biases (Qwen2, attention_bias)'),
    outputBias: z
      .boolean()
      .optional()
      .describe('llama family: the attention output projection has a bias (attention_bias)'),
    mlpBias: z.boolean().optional().describe('llama family: the MLP projections have biases'),
    qkNorm: z
      .boolean()
      .optional()
      .describe('llama family: per-head RMSNorm of queries and keys before RoPE (Qwen3)'),
    slidingWindow: positiveInt
      .optional()
      .describe('Positions a query attends to at most (Mistral sliding_window); default all'),
  })
  .strict()
  .refine((m) => m.numAttentionHeads % m.numKeyValueHeads === 0, {
    error: 'numAttentionHeads must be a multiple of numKeyValueHeads',
    path: ['numKeyValueHeads'],
  })
  .refine((m) => m.headDim !== undefined || m.hiddenSize % m.numAttentionHeads === 0, {
    error: 'hiddenSize must be a multiple of numAttentionHeads when headDim is not given',
    path: ['headDim'],
  })
  .describe('Shapes of a decoder-only transformer, enough to size weights, KV cache and FLOPs');
export type ModelDescription = z.infer<typeof ModelDescription>;

export function headDimOf(model: ModelDescription): number {
  return model.headDim ?? model.hiddenSize / model.numAttentionHeads;
}

/** Parameters of one decoder layer (all layers of these families are identical). */
export function decoderLayerParams(model: ModelDescription): number {
  const d = model.hiddenSize;
  const qDim = model.numAttentionHeads * headDimOf(model);
  const kvDim = model.numKeyValueHeads * headDimOf(model);
  const attention = d * qDim + 2 * d * kvDim + qDim * d;
  if (model.architecture === 'llama') {
    const mlp = 3 * d * model.intermediateSize;
    const norms = 2 * d + (model.qkNorm ? 2 * headDimOf(model) : 0);
    const biases =
      (model.qkvBias ? qDim + 2 * kvDim : 0) +
      (model.outputBias ? d : 0) +
      (model.mlpBias ? 2 * model.intermediateSize + d : 0);
    return attention + mlp + norms + biases;
  }
  const mlp = 2 * d * model.intermediateSize;
  const biases = qDim + 2 * kvDim + d + model.intermediateSize + d;
  const norms = 2 * 2 * d;
  return attention + mlp + biases + norms;
}

/** Parameters outside the decoder layers: embeddings, final norm, LM head. */
export function nonLayerParams(model: ModelDescription): number {
  const d = model.hiddenSize;
  const embedding = model.vocabSize * d;
  const lmHead = model.tiedEmbeddings ? 0 : model.vocabSize * d;
  if (model.architecture === 'llama') return embedding + lmHead + d;
  // OPT keeps 2 extra learned positions (offset of 2 in the HF implementation).
  const positions = (model.maxPositionEmbeddings + 2) * d;
  return embedding + lmHead + positions + 2 * d;
}

export function totalParams(model: ModelDescription): number {
  return model.numLayers * decoderLayerParams(model) + nonLayerParams(model);
}

export function decoderLayerBytes(model: ModelDescription): number {
  return decoderLayerParams(model) * model.dtypeBytes;
}

export function nonLayerBytes(model: ModelDescription): number {
  return nonLayerParams(model) * model.dtypeBytes;
}

/** KV cache bytes one token occupies in one layer (keys and values). */
export function kvBytesPerTokenPerLayer(model: ModelDescription): number {
  return 2 * model.numKeyValueHeads * headDimOf(model) * model.dtypeBytes;
}

/** KV cache bytes one token occupies over the whole model. */
export function kvBytesPerToken(model: ModelDescription): number {
  return model.numLayers * kvBytesPerTokenPerLayer(model);
}

/**
 * KV tokens one sequence of `contextTokens` positions holds, in blocks of `blockTokens`. Without a
 * sliding window, all of them. With one, blocks wholly before every future query's window go back
 * to the pool, so a sequence never holds more than the window plus one block (the partial blocks
 * at both ends of the window), however long it grows.
 */
export function kvTokensHeld(
  contextTokens: number,
  slidingWindow: number | undefined,
  blockTokens: number,
): number {
  if (slidingWindow === undefined || slidingWindow <= 0) return contextTokens;
  return Math.min(contextTokens, (Math.ceil(slidingWindow / blockTokens) + 1) * blockTokens);
}
