// OpenAI-compatible routes: POST /v1/chat/completions, POST /v1/completions (both streaming with
// server-sent events and non-streaming) and GET /v1/models. Validation at the edge with zod;
// admission (ready, draining, queue full) before tokenizing; a client that goes away cancels its
// request, which frees its KV blocks between iterations.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody, ServerError } from '../errors.ts';
import type { ServerMetrics } from '../metrics.ts';
import { Generation, type GenerationEvent, type TokenPiece } from '../openai/generation.ts';
import { prepareChat, prepareCompletion, type Prepared } from '../openai/prepare.ts';
import {
  ChatCompletionRequest,
  ChatCompletionResponse,
  CompletionRequest,
  CompletionResponse,
  ModelList,
  type ChatLogprobs,
  type CompletionLogprobs,
  type Usage,
} from '../openai/schemas.ts';
import { Phase, type Serving, type ServingState } from '../state.ts';

export interface OpenAiPluginOptions {
  state: ServingState;
  metrics: ServerMetrics;
  maxQueue: number;
  clockNow: () => number;
}

const errorResponses = {
  400: ErrorBody,
  404: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
};

export const openAiPlugin: FastifyPluginAsyncZod<OpenAiPluginOptions> = (app, options) => {
  const { state, metrics } = options;

  const admit = (): Serving => {
    if (state.phase === Phase.DRAINING || state.phase === Phase.STOPPED) {
      metrics.rejected.inc({ code: 'SN_ERR_SHUTTING_DOWN' });
      throw new ServerError('SN_ERR_SHUTTING_DOWN', 'the server is shutting down', {
        retryAfterS: 1,
      });
    }
    const serving = state.serving;
    if (serving === undefined || state.phase !== Phase.READY) {
      throw new ServerError('SN_ERR_NOT_READY', `the model is not ready yet (${state.phase})`, {
        retryAfterS: 5,
      });
    }
    if (serving.engine.waitingCount >= options.maxQueue) {
      serving.stats.rejectedTotal += 1;
      metrics.rejected.inc({ code: 'SN_ERR_QUEUE_FULL' });
      const rps = serving.stats.throughput().requestsPerSecond;
      const retry = rps > 0 ? Math.ceil(serving.engine.waitingCount / rps) : 1;
      throw new ServerError(
        'SN_ERR_QUEUE_FULL',
        `the queue is full (${serving.engine.waitingCount} requests waiting); retry later`,
        { retryAfterS: Math.min(60, Math.max(1, retry)) },
      );
    }
    return serving;
  };

  const start = (
    serving: Serving,
    prepared: Prepared,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Generation => {
    const gen = new Generation(serving.engine, serving.text, prepared.request, prepared.stops);
    gen.start();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished && !gen.finished) {
        request.log.info({ requestId: gen.id }, 'client disconnected; request cancelled');
        gen.cancel();
      }
    });
    return gen;
  };

  app.get('/v1/models', { schema: { response: { 200: ModelList, 503: ErrorBody } } }, () => {
    const serving = state.serving;
    if (serving === undefined) {
      throw new ServerError('SN_ERR_NOT_READY', `the model is not ready yet (${state.phase})`);
    }
    return {
      object: 'list' as const,
      data: [
        {
          id: serving.modelName,
          object: 'model' as const,
          created: serving.createdS,
          owned_by: 'selectn',
          max_model_len: serving.maxModelLen,
        },
      ],
    };
  });

  app.post(
    '/v1/chat/completions',
    {
      schema: {
        body: ChatCompletionRequest,
        response: { 200: ChatCompletionResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const serving = admit();
      const body = request.body;
      const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
      const prepared = prepareChat(body, {
        modelName: serving.modelName,
        maxModelLen: serving.maxModelLen,
        text: serving.text,
        nowMs: options.clockNow(),
        id,
      });
      const created = Math.floor(Date.now() / 1000);
      const gen = start(serving, prepared, request, reply);
      const wantLogprobs = body.logprobs === true;
      if (body.stream === true) {
        const includeUsage = body.stream_options?.include_usage === true;
        await streamSse(reply, metrics, '/v1/chat/completions', async (send) => {
          const base = { id, object: 'chat.completion.chunk', created, model: serving.modelName };
          send({
            ...base,
            choices: [
              {
                index: 0,
                delta: { role: 'assistant', content: '' },
                logprobs: null,
                finish_reason: null,
              },
            ],
          });
          let last: GenerationEvent | undefined;
          for await (const event of gen.events()) {
            last = event;
            failIfBroken(event);
            if (event.text !== '' || (wantLogprobs && event.tokens.length > 0)) {
              send({
                ...base,
                choices: [
                  {
                    index: 0,
                    delta: { content: event.text },
                    logprobs: wantLogprobs ? chatLogprobs(event.tokens) : null,
                    finish_reason: null,
                  },
                ],
              });
            }
            if (event.finishReason !== undefined) {
              send({
                ...base,
                choices: [
                  { index: 0, delta: {}, logprobs: null, finish_reason: event.finishReason },
                ],
              });
            }
          }
          if (includeUsage && last !== undefined) {
            send({ ...base, choices: [], usage: usageOf(last) });
          }
        });
        return reply;
      }
      const { text, tokens, last } = await collect(gen);
      return {
        id,
        object: 'chat.completion' as const,
        created,
        model: serving.modelName,
        choices: [
          {
            index: 0,
            message: { role: 'assistant' as const, content: text },
            logprobs: wantLogprobs ? chatLogprobs(tokens) : null,
            finish_reason: last.finishReason ?? null,
          },
        ],
        usage: usageOf(last),
      };
    },
  );

  app.post(
    '/v1/completions',
    {
      schema: { body: CompletionRequest, response: { 200: CompletionResponse, ...errorResponses } },
    },
    async (request, reply) => {
      const serving = admit();
      const body = request.body;
      const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
      const prepared = prepareCompletion(body, {
        modelName: serving.modelName,
        maxModelLen: serving.maxModelLen,
        text: serving.text,
        nowMs: options.clockNow(),
        id,
      });
      const created = Math.floor(Date.now() / 1000);
      const gen = start(serving, prepared, request, reply);
      const wantLogprobs = body.logprobs != null;
      if (body.stream === true) {
        const includeUsage = body.stream_options?.include_usage === true;
        await streamSse(reply, metrics, '/v1/completions', async (send) => {
          const base = { id, object: 'text_completion', created, model: serving.modelName };
          let offset = 0;
          let last: GenerationEvent | undefined;
          for await (const event of gen.events()) {
            last = event;
            failIfBroken(event);
            const logprobs = wantLogprobs ? completionLogprobs(event.tokens, offset) : null;
            offset += event.text.length;
            if (event.text !== '' || event.finishReason !== undefined || logprobs !== null) {
              send({
                ...base,
                choices: [
                  {
                    index: 0,
                    text: event.text,
                    logprobs,
                    finish_reason: event.finishReason ?? null,
                  },
                ],
              });
            }
          }
          if (includeUsage && last !== undefined)
            send({ ...base, choices: [], usage: usageOf(last) });
        });
        return reply;
      }
      const { text, tokens, last } = await collect(gen);
      return {
        id,
        object: 'text_completion' as const,
        created,
        model: serving.modelName,
        choices: [
          {
            index: 0,
            text,
            logprobs: wantLogprobs ? completionLogprobs(tokens, 0) : null,
            finish_reason: last.finishReason ?? null,
          },
        ],
        usage: usageOf(last),
      };
    },
  );
  return Promise.resolve();
};

/** An engine failure or an abort at shutdown is an error, not a short answer. */
function failIfBroken(event: GenerationEvent): void {
  if (event.finishReason === 'error') {
    throw new ServerError('SN_ERR_ENGINE', 'the engine failed while generating this request');
  }
  if (event.finishReason === 'abort') {
    throw new ServerError(
      'SN_ERR_SHUTTING_DOWN',
      'the request was aborted: the server is shutting down',
    );
  }
}

async function collect(
  gen: Generation,
): Promise<{ text: string; tokens: TokenPiece[]; last: GenerationEvent }> {
  let text = '';
  const tokens: TokenPiece[] = [];
  let last: GenerationEvent | undefined;
  for await (const event of gen.events()) {
    failIfBroken(event);
    text += event.text;
    tokens.push(...event.tokens);
    last = event;
  }
  if (last === undefined) {
    throw new ServerError('SN_ERR_INTERNAL', 'the request ended without output');
  }
  return { text, tokens, last };
}

function usageOf(event: GenerationEvent): Usage {
  return {
    prompt_tokens: event.promptTokens,
    completion_tokens: event.completionTokens,
    total_tokens: event.promptTokens + event.completionTokens,
  };
}

function bytesOf(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}

function chatLogprobs(tokens: readonly TokenPiece[]): ChatLogprobs {
  return {
    content: tokens.map((t) => ({
      token: t.text,
      logprob: t.logprob ?? 0,
      bytes: bytesOf(t.text),
      top_logprobs: (t.top ?? []).map((a) => ({
        token: a.text,
        logprob: a.logprob,
        bytes: bytesOf(a.text),
      })),
    })),
  };
}

function completionLogprobs(
  tokens: readonly TokenPiece[],
  startOffset: number,
): CompletionLogprobs {
  let offset = startOffset;
  const textOffset: number[] = [];
  for (const t of tokens) {
    textOffset.push(offset);
    offset += t.text.length;
  }
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob ?? 0),
    top_logprobs: tokens.map((t) =>
      Object.fromEntries((t.top ?? []).map((a) => [a.text, a.logprob])),
    ),
    text_offset: textOffset,
  };
}

/**
 * Streams server-sent events on the raw response: `data: <json>` per chunk, then `data: [DONE]`.
 * An error after the stream started is sent as one `data: {"error": ...}` event.
 */
async function streamSse(
  reply: FastifyReply,
  metrics: ServerMetrics,
  route: string,
  produce: (send: (chunk: unknown) => void) => Promise<void>,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': reply.request.id,
  });
  const send = (chunk: unknown): void => {
    if (!raw.destroyed) raw.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  let status = 200;
  try {
    await produce(send);
  } catch (error) {
    const err =
      error instanceof ServerError
        ? error
        : new ServerError('SN_ERR_INTERNAL', 'internal error while streaming', { cause: error });
    status = err.statusCode;
    if (status >= 500) reply.request.log.error({ err: error }, 'stream failed');
    else reply.request.log.info({ code: err.code }, 'stream ended with an error');
    send(err.toBody());
  }
  if (!raw.destroyed) raw.end('data: [DONE]\n\n');
  metrics.httpRequests.inc({
    route,
    status: String(raw.destroyed && !raw.writableFinished ? 499 : status),
  });
}
