// A request as the scheduler tracks it: no prefill/decode phases, only tokens computed so far
// against all tokens known (prompt + generated). A preempted request drops its KV blocks and is
// recomputed later from prompt + output.
import type { SamplingParams, TokenLogprob } from '../engine-port.ts';

export const FinishReason = {
  STOP: 'stop',
  LENGTH: 'length',
  ABORT: 'abort',
  ERROR: 'error',
} as const;
export type FinishReason = (typeof FinishReason)[keyof typeof FinishReason];

export const RequestStatus = {
  WAITING: 'waiting',
  RUNNING: 'running',
  FINISHED: 'finished',
} as const;
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

export interface NewRequest {
  id: string;
  promptTokenIds: readonly number[];
  /** Most tokens to generate (already clamped to the context length by the caller). */
  maxTokens: number;
  sampling: SamplingParams;
  /** Tokens that end generation (EOS unless ignoreEos, plus the request's stop_token_ids). */
  stopTokenIds: readonly number[];
  /** Milliseconds on the scheduler's clock. */
  arrivalMs: number;
}

export class SchedRequest {
  readonly id: string;
  readonly promptTokenIds: readonly number[];
  readonly maxTokens: number;
  readonly sampling: SamplingParams;
  readonly stopTokenIds: ReadonlySet<number>;
  readonly arrivalMs: number;
  readonly outputTokenIds: number[] = [];
  status: RequestStatus = RequestStatus.WAITING;
  /** Tokens whose KV is in the cache. */
  numComputedTokens = 0;
  /** KV blocks held, in order, after the released ones. */
  blocks: number[] = [];
  /** Leading blocks given back to the pool: wholly before every future query's sliding window. */
  releasedBlocks = 0;
  numPreemptions = 0;
  firstTokenMs: number | undefined;
  /** When the request was first admitted to the running batch. */
  firstScheduledMs: number | undefined;
  finishReason: FinishReason | undefined;
  finishedMs: number | undefined;

  constructor(request: NewRequest) {
    if (request.promptTokenIds.length === 0) throw new Error('a request needs at least one token');
    if (request.maxTokens < 1) throw new Error('maxTokens must be at least 1');
    this.id = request.id;
    this.promptTokenIds = request.promptTokenIds;
    this.maxTokens = request.maxTokens;
    this.sampling = request.sampling;
    this.stopTokenIds = new Set(request.stopTokenIds);
    this.arrivalMs = request.arrivalMs;
  }

  /** Prompt plus generated tokens. */
  get numTokens(): number {
    return this.promptTokenIds.length + this.outputTokenIds.length;
  }

  tokenAt(position: number): number {
    const prompt = this.promptTokenIds.length;
    const token =
      position < prompt ? this.promptTokenIds[position] : this.outputTokenIds[position - prompt];
    if (token === undefined) throw new Error(`request ${this.id} has no token at ${position}`);
    return token;
  }

  tokens(from: number, to: number): number[] {
    const out: number[] = [];
    for (let p = from; p < to; p++) out.push(this.tokenAt(p));
    return out;
  }
}

/** What one iteration produced for one request. */
export interface RequestOutput {
  requestId: string;
  newTokenIds: readonly number[];
  /** Per new token, when logprobs were asked for. */
  logprobs?: readonly { logprob: number; top: readonly TokenLogprob[] }[];
  finishReason?: FinishReason;
  /** The token id that stopped the request, when a stop token did. */
  stopTokenId?: number;
  promptTokens: number;
  completionTokens: number;
}
