// The server's text port over src/runtime: the model's tokenizer (tokenizer.json), its chat
// template (tokenizer_config.json) and the incremental detokenizer.
import { ChatTemplate } from '../runtime/chat-template.ts';
import { IncrementalDetokenizer } from '../runtime/detokenizer.ts';
import { ModelTokenizer } from '../runtime/tokenizer.ts';
import { ServerError } from './errors.ts';
import type { ChatMessage, IncrementalDecoder, TextModelPort } from './text-port.ts';

export class TextAdapter implements TextModelPort {
  readonly eosTokenIds: readonly number[];
  readonly vocabSize: number;
  private readonly tokenizer: ModelTokenizer;
  private readonly template: ChatTemplate | undefined;

  constructor(tokenizer: ModelTokenizer, model: { eosTokenIds: number[]; vocabSize: number }) {
    this.tokenizer = tokenizer;
    this.template =
      tokenizer.config.chatTemplate === undefined ? undefined : new ChatTemplate(tokenizer.config);
    const eos = new Set(model.eosTokenIds);
    if (tokenizer.eosId !== undefined) eos.add(tokenizer.eosId);
    this.eosTokenIds = [...eos];
    this.vocabSize = model.vocabSize;
  }

  static async fromDir(
    dir: string,
    model: { eosTokenIds: number[]; vocabSize: number },
  ): Promise<TextAdapter> {
    return new TextAdapter(await ModelTokenizer.fromDir(dir), model);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  encodeChat(messages: readonly ChatMessage[]): number[] {
    if (this.template === undefined) {
      throw new ServerError(
        'SN_ERR_UNSUPPORTED',
        'this model has no chat template (tokenizer_config.json chat_template); use /v1/completions',
        { param: 'messages' },
      );
    }
    const text = this.template.render([...messages], { addGenerationPrompt: true });
    // The template writes BOS itself when the model wants one.
    return this.tokenizer.encode(text, { addSpecialTokens: false });
  }

  decoder(): IncrementalDecoder {
    const detok = new IncrementalDetokenizer(this.tokenizer);
    return { push: (id) => detok.push(id), flush: () => detok.flush() };
  }

  tokenText(tokenId: number): string {
    return this.tokenizer.decode([tokenId], { skipSpecialTokens: false });
  }
}
