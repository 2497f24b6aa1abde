// One request's output processing on the HTTP side: receives token outputs from the engine loop,
// detokenizes incrementally, applies stop strings (ending the request in the engine when one
// matches) and hands text deltas to the route as an async stream of events.
import type { EngineLoop } from '../engine-loop.ts';
import type { TokenLogprob } from '../engine-port.ts';
import { FinishReason, type NewRequest, type RequestOutput } from '../scheduler/request.ts';
import type { IncrementalDecoder, TextModelPort } from '../text-port.ts';
import { StopMatcher } from './stop-matcher.ts';

export interface TokenPiece {
  tokenId: number;
  text: string;
  logprob?: number;
  top?: readonly { tokenId: number; text: string; logprob: number }[];
}

export interface GenerationEvent {
  /** Text safe to send now. */
  text: string;
  /** Tokens received in this event (for logprobs). */
  tokens: readonly TokenPiece[];
  /** Set on the last event. */
  finishReason?: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export class Generation {
  readonly id: string;
  readonly promptTokens: number;
  private readonly queue: GenerationEvent[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private completionTokens = 0;
  private readonly decoder: IncrementalDecoder;
  private readonly stops: StopMatcher;
  private readonly engine: EngineLoop;
  private readonly text: TextModelPort;
  private readonly request: NewRequest;
  private readonly wantLogprobs: boolean;

  constructor(
    engine: EngineLoop,
    text: TextModelPort,
    request: NewRequest,
    stops: readonly string[],
  ) {
    this.engine = engine;
    this.text = text;
    this.request = request;
    this.id = request.id;
    this.promptTokens = request.promptTokenIds.length;
    this.decoder = text.decoder();
    this.stops = new StopMatcher(stops);
    this.wantLogprobs = request.sampling.logprobs !== null;
  }

  /** Queues the request in the engine. Throws when the engine refuses it. */
  start(): void {
    this.engine.add(this.request, {
      onOutput: (out) => {
        this.onOutput(out);
      },
    });
  }

  /** Ends the request early (client disconnected); frees its KV blocks between iterations. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.engine.abort(this.id, FinishReason.ABORT);
    this.wakeUp();
  }

  get finished(): boolean {
    return this.done;
  }

  async *events(): AsyncGenerator<GenerationEvent> {
    for (;;) {
      const event = this.queue.shift();
      if (event !== undefined) {
        yield event;
        if (event.finishReason !== undefined) return;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private onOutput(out: RequestOutput): void {
    if (this.done) return;
    const tokens: TokenPiece[] = [];
    let text = '';
    let stopped = false;
    for (const [k, tokenId] of out.newTokenIds.entries()) {
      this.completionTokens += 1;
      const isStopToken = out.stopTokenId === tokenId && k === out.newTokenIds.length - 1;
      // A stop token (EOS) ends the text without being part of it.
      const piece = isStopToken ? '' : this.decoder.push(tokenId);
      tokens.push(this.piece(tokenId, piece, out.logprobs?.[k]));
      if (stopped) continue;
      const result = this.stops.push(piece);
      text += result.text;
      if (result.stopped !== undefined) stopped = true;
    }
    let finishReason = out.finishReason;
    if (stopped) {
      finishReason = FinishReason.STOP;
      if (out.finishReason === undefined) this.engine.abort(this.id, FinishReason.STOP);
    } else if (finishReason !== undefined) {
      text += this.stops.push(this.decoder.flush()).text + this.stops.flush();
    }
    this.queue.push({
      text,
      tokens,
      ...(finishReason === undefined ? {} : { finishReason }),
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
    });
    if (finishReason !== undefined) this.done = true;
    this.wakeUp();
  }

  private piece(
    tokenId: number,
    text: string,
    logprob: { logprob: number; top: readonly TokenLogprob[] } | undefined,
  ): TokenPiece {
    if (!this.wantLogprobs || logprob === undefined) return { tokenId, text };
    return {
      tokenId,
      text: this.text.tokenText(tokenId),
      logprob: logprob.logprob,
      top: logprob.top.map((t) => ({
        tokenId: t.tokenId,
        text: this.text.tokenText(t.tokenId),
        logprob: t.logprob,
      })),
    };
  }

  private wakeUp(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
