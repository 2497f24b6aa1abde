// The Hugging Face model families Select-N serves, and the config.json settings it refuses: one
// table that the config import (description-parsing.ts) enforces, the native engine mirrors
// (native/engine/config.cc) and the README's list is checked against (test/planner).
import type { ModelArchitecture } from './model.ts';

export interface ModelFamily {
  /** config.json model_type. */
  readonly modelType: string;
  /** The planner's layer shape for it. */
  readonly architecture: ModelArchitecture;
  /** Published checkpoints of the family that load as they are. */
  readonly examples: string;
  /** What of the family the engine runs (beyond the architecture's basics). */
  readonly runs: string;
}

export const MODEL_FAMILIES: readonly ModelFamily[] = [
  {
    modelType: 'llama',
    architecture: 'llama',
    examples: 'Llama 2, Llama 3, 3.1, 3.2',
    runs: 'grouped-query attention; rope_scaling linear or llama3; tied embeddings (3.2); attention_bias, mlp_bias',
  },
  {
    modelType: 'mistral',
    architecture: 'llama',
    examples: 'Mistral 7B v0.1 to v0.3',
    runs: 'as llama; sliding_window honoured (each query attends its last sliding_window positions)',
  },
  {
    modelType: 'qwen2',
    architecture: 'llama',
    examples: 'Qwen2, Qwen2.5 (0.5B to 72B, Instruct, Coder)',
    runs: 'q/k/v biases; tied or untied embeddings; rope_theta 1e6; ChatML chat template',
  },
  {
    modelType: 'qwen3',
    architecture: 'llama',
    examples: 'Qwen3 dense (0.6B to 32B)',
    runs: 'per-head q/k RMSNorm; explicit head_dim; no biases; tied or untied embeddings',
  },
  {
    modelType: 'phi3',
    architecture: 'llama',
    examples: 'Phi-3 mini and medium, 4k context (the 128k ones use longrope, refused)',
    runs: 'fused qkv_proj and gate_up_proj; partial_rotary_factor; sliding_window honoured',
  },
  {
    modelType: 'opt',
    architecture: 'opt',
    examples: 'OPT 125M to 66B',
    runs: 'learned positions, pre- or post-LayerNorm (opt-350m), ReLU MLP, biases',
  },
];

export interface RefusedSetting {
  /** The config.json field whose value is refused. */
  readonly field: string;
  /** Which values are refused. */
  readonly refused: string;
}

/** Settings refused at start-up for every family, with one line naming the field and its value. */
export const REFUSED_SETTINGS: readonly RefusedSetting[] = [
  { field: 'model_type', refused: 'any type not in the table above (gemma, phi, mixtral, ...)' },
  {
    field: 'rope_scaling (or rope_parameters).rope_type',
    refused: 'anything but default, linear and llama3 (yarn, dynamic, longrope, su, ...)',
  },
  {
    field: 'num_local_experts, num_experts, n_routed_experts',
    refused: 'any mixture-of-experts layers',
  },
  {
    field: 'quantization_config',
    refused: 'quantized weights (GPTQ, AWQ, bitsandbytes, fp8, ...)',
  },
  {
    field: 'use_sliding_window, layer_types',
    refused: 'per-layer windows (Qwen2/Qwen3 max_window_layers, mixed layer_types)',
  },
];

export const SUPPORTED_MODEL_TYPES: readonly string[] = MODEL_FAMILIES.map((f) => f.modelType);

export function modelFamily(modelType: string): ModelFamily | undefined {
  return MODEL_FAMILIES.find((f) => f.modelType === modelType);
}

/** A Markdown table with padded columns, as Prettier formats it. */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The README's table of supported families and refused settings (Markdown). */
export function modelFamiliesMarkdown(): string {
  const lines = [
    ...markdownTable(
      ['`model_type`', 'Checkpoints', 'What runs'],
      MODEL_FAMILIES.map((f) => [`\`${f.modelType}\``, f.examples, f.runs]),
    ),
    '',
    'Refused at start-up, with one line naming the field and its value:',
    '',
    ...markdownTable(
      ['Field', 'Refused'],
      REFUSED_SETTINGS.map((r) => [`\`${r.field}\``, r.refused]),
    ),
  ];
  return lines.join('\n') + '\n';
}
