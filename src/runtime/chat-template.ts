// Chat templates: tokenizer_config.json's Jinja template rendered with @huggingface/jinja, with
// the variables transformers passes (messages, add_generation_prompt, bos/eos tokens).
import { Template } from '@huggingface/jinja';
import { TokenizerError, type TokenizerConfig } from './tokenizer.ts';

export interface ChatMessage {
  role: string;
  content: string;
}

export class ChatTemplate {
  readonly #template: Template;
  readonly #config: TokenizerConfig;

  constructor(config: TokenizerConfig) {
    if (config.chatTemplate === undefined) {
      throw new TokenizerError('tokenizer_config.json has no chat_template');
    }
    try {
      this.#template = new Template(config.chatTemplate);
    } catch (e: unknown) {
      throw new TokenizerError(`chat_template does not parse: ${(e as Error).message}`);
    }
    this.#config = config;
  }

  /** The prompt text for `messages`; the tokenizer must then encode it without adding BOS again. */
  render(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    try {
      return this.#template.render({
        messages,
        add_generation_prompt: options.addGenerationPrompt ?? true,
        bos_token: this.#config.bosToken ?? '',
        eos_token: this.#config.eosToken ?? '',
        pad_token: this.#config.padToken ?? '',
      });
    } catch (e: unknown) {
      throw new TokenizerError(`chat_template failed to render: ${(e as Error).message}`);
    }
  }
}
