// From a validated OpenAI request to an engine request: model check, prompt tokens, length checks
// against the context, sampling parameters, stop conditions. Every refusal is a ServerError that
// names the field.
import { randomInt } from 'node:crypto';
import type { SamplingParams } from '../engine-port.ts';
import { ServerError } from '../errors.ts';
import type { NewRequest } from '../scheduler/request.ts';
import type { ChatMessage, TextModelPort } from '../text-port.ts';
import type { ChatCompletionRequest, CompletionRequest } from './schemas.ts';

export interface Prepared {
  request: NewRequest;
  stops: string[];
}

export interface PrepareContext {
  modelName: string;
  maxModelLen: number;
  text: TextModelPort;
  nowMs: number;
  id: string;
}

type Common = Pick<
  ChatCompletionRequest,
  | 'model'
  | 'max_tokens'
  | 'temperature'
  | 'top_p'
  | 'top_k'
  | 'min_p'
  | 'presence_penalty'
  | 'frequency_penalty'
  | 'repetition_penalty'
  | 'seed'
  | 'stop'
  | 'stop_token_ids'
  | 'ignore_eos'
>;

export function checkModel(model: string, served: string): void {
  if (model !== served) {
    throw new ServerError('SN_ERR_MODEL_NOT_FOUND', `The model \`${model}\` does not exist.`, {
      param: 'model',
    });
  }
}

export function chatMessages(body: ChatCompletionRequest): ChatMessage[] {
  return body.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content:
      m.content === null
        ? ''
        : typeof m.content === 'string'
          ? m.content
          : m.content.map((p) => p.text).join(''),
  }));
}

export function prepareChat(body: ChatCompletionRequest, ctx: PrepareContext): Prepared {
  checkModel(body.model, ctx.modelName);
  const prompt = ctx.text.encodeChat(chatMessages(body));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const logprobs = body.logprobs === true ? (body.top_logprobs ?? 0) : null;
  return prepareCommon(body, ctx, prompt, 'messages', maxTokens, logprobs);
}

export function prepareCompletion(body: CompletionRequest, ctx: PrepareContext): Prepared {
  checkModel(body.model, ctx.modelName);
  let prompt: number[];
  if (typeof body.prompt === 'string') prompt = ctx.text.encode(body.prompt);
  else if (body.prompt.every((p): p is number => typeof p === 'number')) {
    prompt = body.prompt;
    const bad = prompt.findIndex((t) => t >= ctx.text.vocabSize);
    if (bad >= 0) {
      throw new ServerError(
        'SN_ERR_INVALID_REQUEST',
        `prompt.${bad}: token id ${prompt[bad]} is outside the vocabulary of ${ctx.text.vocabSize}`,
        { param: `prompt.${bad}` },
      );
    }
  } else prompt = ctx.text.encode(String(body.prompt[0]));
  const logprobs = body.logprobs ?? null;
  return prepareCommon(body, ctx, prompt, 'prompt', body.max_tokens, logprobs);
}

function prepareCommon(
  body: Common,
  ctx: PrepareContext,
  prompt: number[],
  promptField: string,
  maxTokens: number | null | undefined,
  logprobs: number | null,
): Prepared {
  if (prompt.length === 0) {
    throw new ServerError('SN_ERR_INVALID_REQUEST', `${promptField}: the prompt is empty`, {
      param: promptField,
    });
  }
  if (prompt.length >= ctx.maxModelLen) {
    throw new ServerError(
      'SN_ERR_PROMPT_TOO_LONG',
      `This model's maximum context length is ${ctx.maxModelLen} tokens. However, your ${promptField} resulted in ${prompt.length} tokens.`,
      { param: promptField },
    );
  }
  const room = ctx.maxModelLen - prompt.length;
  if (maxTokens != null && maxTokens > room) {
    throw new ServerError(
      'SN_ERR_PROMPT_TOO_LONG',
      `This model's maximum context length is ${ctx.maxModelLen} tokens. However, you requested ${prompt.length + maxTokens} tokens (${prompt.length} in the ${promptField}, ${maxTokens} in the completion).`,
      { param: 'max_tokens' },
    );
  }
  const topK = body.top_k ?? 0;
  const sampling: SamplingParams = {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: topK < 0 ? 0 : topK,
    minP: body.min_p ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    seed: body.seed ?? randomInt(0, 2 ** 31),
    logprobs,
  };
  const stopTokenIds = [...(body.stop_token_ids ?? [])];
  if (body.ignore_eos !== true) stopTokenIds.push(...ctx.text.eosTokenIds);
  const stops = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    request: {
      id: ctx.id,
      promptTokenIds: prompt,
      maxTokens: maxTokens ?? room,
      sampling,
      stopTokenIds,
      arrivalMs: ctx.nowMs,
    },
    stops,
  };
}
