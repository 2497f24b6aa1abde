// Stop conditions of one sequence: stop tokens (EOS and user-given ids), stop strings matched on
// the detokenized text (held back while a stop string may still be forming, and cut before it),
// and max tokens.
export type FinishReason = 'stop' | 'length';

export interface StopResult {
  /** Text safe to send now. */
  text: string;
  finished: FinishReason | undefined;
}

export class StopChecker {
  readonly #stopIds: ReadonlySet<number>;
  readonly #stopStrings: readonly string[];
  readonly #maxTokens: number;
  #generated = 0;
  #held = '';
  #done: FinishReason | undefined;

  constructor(options: { stopTokenIds?: number[]; stopStrings?: string[]; maxTokens: number }) {
    if (!Number.isInteger(options.maxTokens) || options.maxTokens < 1) {
      throw new RangeError('maxTokens must be a positive integer');
    }
    this.#stopIds = new Set(options.stopTokenIds ?? []);
    this.#stopStrings = (options.stopStrings ?? []).filter((s) => s.length > 0);
    this.#maxTokens = options.maxTokens;
  }

  get finished(): FinishReason | undefined {
    return this.#done;
  }

  /** Feeds one generated token and the text delta it produced (from IncrementalDetokenizer). */
  push(tokenId: number, delta: string): StopResult {
    if (this.#done) return { text: '', finished: this.#done };
    this.#generated++;
    if (this.#stopIds.has(tokenId)) {
      this.#done = 'stop';
      const text = this.#held;
      this.#held = '';
      return { text, finished: 'stop' };
    }
    const buf = this.#held + delta;
    let cut = -1;
    for (const s of this.#stopStrings) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.#done = 'stop';
      this.#held = '';
      return { text: buf.slice(0, cut), finished: 'stop' };
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    let hold = 0;
    for (const s of this.#stopStrings) {
      for (let k = Math.min(s.length - 1, buf.length); k > hold; k--) {
        if (buf.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.#held = buf.slice(buf.length - hold);
    const text = buf.slice(0, buf.length - hold);
    if (this.#generated >= this.#maxTokens) {
      this.#done = 'length';
      const rest = this.#held;
      this.#held = '';
      return { text: text + rest, finished: 'length' };
    }
    return { text, finished: undefined };
  }

  /** Releases held-back text when the sequence ends for another reason. */
  flush(): string {
    const t = this.#held;
    this.#held = '';
    return t;
  }
}
