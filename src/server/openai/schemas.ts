// Request and response schemas of the OpenAI-compatible routes: the usual OpenAI fields plus the
// common vLLM extensions (top_k, min_p, repetition_penalty, ignore_eos, stop_token_ids). Unknown
// fields are ignored, as OpenAI-compatible servers do.
import { z } from 'zod';

const stop = z
  .union([z.string(), z.array(z.string()).max(16)])
  .nullable()
  .optional()
  .describe('up to 16 sequences where generation stops; not included in the output');

const sampling = {
  model: z.string().min(1).describe('served model name'),
  max_tokens: z.int().min(1).nullable().optional().describe('most tokens to generate'),
  temperature: z.number().min(0).max(2).nullable().optional().describe('0: greedy'),
  top_p: z.number().gt(0).max(1).nullable().optional().describe('nucleus sampling mass'),
  top_k: z.int().min(-1).nullable().optional().describe('vLLM extension; -1 or 0: off'),
  min_p: z.number().min(0).max(1).nullable().optional().describe('vLLM extension'),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  repetition_penalty: z.number().gt(0).max(10).nullable().optional().describe('vLLM extension'),
  seed: z.int().nullable().optional().describe('sampling seed, for reproducible output'),
  n: z.literal(1, 'only n=1 is supported').nullable().optional(),
  stop,
  stop_token_ids: z.array(z.int().min(0)).max(64).nullable().optional(),
  ignore_eos: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .object({ include_usage: z.boolean().nullable().optional() })
    .nullable()
    .optional(),
  user: z.string().optional(),
};

const textPart = z.object({ type: z.literal('text'), text: z.string() });

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(textPart).min(1)]).nullable(),
  name: z.string().optional(),
});

export const ChatCompletionRequest = z.object({
  ...sampling,
  messages: z.array(ChatMessageSchema).min(1).describe('the conversation so far'),
  max_completion_tokens: z.int().min(1).nullable().optional().describe('alias of max_tokens'),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.int().min(0).max(20).nullable().optional(),
});
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z
    .union([
      z.string(),
      z.array(z.string()).length(1, 'only one prompt per request is supported'),
      z.array(z.int().min(0)).min(1),
    ])
    .describe('the prompt: text, a one-element list of text, or token ids'),
  logprobs: z.int().min(0).max(20).nullable().optional(),
  echo: z.literal(false, 'echo is not supported').nullable().optional(),
  suffix: z.null('suffix is not supported').optional(),
  best_of: z.literal(1, 'only best_of=1 is supported').nullable().optional(),
});
export type CompletionRequest = z.output<typeof CompletionRequest>;

const usage = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
});
export type Usage = z.output<typeof usage>;

const finishReason = z.enum(['stop', 'length', 'abort', 'error']).nullable();

const topLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.int()).nullable(),
});
export const ChatLogprobs = z.object({
  content: z.array(topLogprob.extend({ top_logprobs: z.array(topLogprob) })).nullable(),
});
export type ChatLogprobs = z.output<typeof ChatLogprobs>;

export const ChatCompletionResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      message: z.object({ role: z.literal('assistant'), content: z.string() }),
      logprobs: ChatLogprobs.nullable(),
      finish_reason: finishReason,
    }),
  ),
  usage,
});
export type ChatCompletionResponse = z.output<typeof ChatCompletionResponse>;

export const CompletionLogprobs = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number()),
  top_logprobs: z.array(z.record(z.string(), z.number())),
  text_offset: z.array(z.int()),
});
export type CompletionLogprobs = z.output<typeof CompletionLogprobs>;

export const CompletionResponse = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      text: z.string(),
      logprobs: CompletionLogprobs.nullable(),
      finish_reason: finishReason,
    }),
  ),
  usage,
});
export type CompletionResponse = z.output<typeof CompletionResponse>;

export const ModelList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      id: z.string(),
      object: z.literal('model'),
      created: z.int(),
      owned_by: z.string(),
      max_model_len: z.int(),
    }),
  ),
});
export type ModelList = z.output<typeof ModelList>;
