// Incremental detokenization: turns a growing list of token ids into text deltas, never emitting
// half a UTF-8 character (byte-level BPE splits characters across tokens) and never emitting
// text that a later token would change (the prefix/read offsets of HF text-generation-inference).
import type { TextTokenizer } from './tokenizer.ts';

const REPLACEMENT = '\uFFFD';

export class IncrementalDetokenizer {
  readonly #tok: TextTokenizer;
  readonly #ids: number[] = [];
  readonly #skipSpecial: boolean;
  #prefixOffset = 0; // start of the window decoded for context
  #readOffset = 0; // tokens before this are already emitted

  constructor(tokenizer: TextTokenizer, options: { skipSpecialTokens?: boolean } = {}) {
    this.#tok = tokenizer;
    this.#skipSpecial = options.skipSpecialTokens ?? true;
  }

  /** Appends one token; returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.#ids.push(id);
    const prefix = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset));
    const full = this.#decode(this.#ids.slice(this.#prefixOffset));
    if (full.length <= prefix.length || full.endsWith(REPLACEMENT)) return '';
    if (!full.startsWith(prefix)) return '';
    this.#prefixOffset = this.#readOffset;
    this.#readOffset = this.#ids.length;
    return full.slice(prefix.length);
  }

  /** Text held back at the end of the sequence (an unfinished character decodes as U+FFFD). */
  flush(): string {
    const prefix = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset));
    const full = this.#decode(this.#ids.slice(this.#prefixOffset));
    this.#prefixOffset = this.#readOffset = this.#ids.length;
    return full.startsWith(prefix) ? full.slice(prefix.length) : '';
  }

  #decode(ids: number[]): string {
    return ids.length === 0 ? '' : this.#tok.decode(ids, { skipSpecialTokens: this.#skipSpecial });
  }
}
