// What the HTTP side needs from the model's text machinery: tokenizer, chat template, incremental
// detokenizer. The production adapter wraps src/runtime's tokenizer, chat-template and detokenizer.

export interface ChatMessage {
  role: string;
  content: string;
}

/** Turns generated token ids into text pieces; never emits half a UTF-8 character. */
export interface IncrementalDecoder {
  /** Text that the new token completes (may be empty). */
  push(tokenId: number): string;
  /** Whatever is left (an incomplete character at the end becomes U+FFFD). */
  flush(): string;
}

export interface TextModelPort {
  /** Prompt tokens of a plain text (with BOS when the model wants it). */
  encode(text: string): number[];
  /** Prompt tokens of a conversation rendered with the model's chat template. */
  encodeChat(messages: readonly ChatMessage[]): number[];
  /** A new incremental decoder for one request's output. */
  decoder(): IncrementalDecoder;
  /** Text of a single token, for logprobs. */
  tokenText(tokenId: number): string;
  /** Tokens that end generation unless ignore_eos is set. */
  readonly eosTokenIds: readonly number[];
  readonly vocabSize: number;
}
