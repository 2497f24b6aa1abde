// Tokenizer of a Hugging Face model folder: tokenizer.json through @huggingface/tokenizers, with
// tokenizer_config.json's special tokens (BOS added when add_bos_token is set and the tokenizer's
// own post-processor did not add it).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as hfTokenizers from '@huggingface/tokenizers';

/** The part of @huggingface/tokenizers' Tokenizer used here (its bundled .d.ts files do not
 * resolve under nodenext, so the shape is stated here and checked by the tests). */
interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
}
type HfTokenizerCtor = new (tokenizerJson: object, config: object) => HfTokenizer;
const Tokenizer = (hfTokenizers as unknown as { Tokenizer: HfTokenizerCtor }).Tokenizer;

export interface TokenizerConfig {
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  addBosToken: boolean;
  chatTemplate?: string;
  modelMaxLength?: number;
}

/** What the detokenizer and the chat code need of a tokenizer. */
export interface TextTokenizer {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { content?: unknown }).content === 'string'
  ) {
    return (v as { content: string }).content;
  }
  return undefined;
}

/** Parses tokenizer_config.json (special tokens may be strings or AddedToken objects). */
export function parseTokenizerConfig(json: unknown, source: string): TokenizerConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TokenizerError(`${source}: not a JSON object`);
  }
  const o = json as Record<string, unknown>;
  let chatTemplate: string | undefined;
  const t = o['chat_template'];
  if (typeof t === 'string') {
    chatTemplate = t;
  } else if (Array.isArray(t)) {
    // [{name, template}]: the "default" one, else the first.
    const entries = t.filter(
      (e): e is { name: string; template: string } =>
        e !== null &&
        typeof e === 'object' &&
        typeof (e as { template?: unknown }).template === 'string',
    );
    chatTemplate = (entries.find((e) => e.name === 'default') ?? entries[0])?.template;
  } else if (t !== undefined && t !== null) {
    throw new TokenizerError(`${source}: chat_template must be a string or a list of templates`);
  }
  const max = o['model_max_length'];
  return {
    bosToken: tokenText(o['bos_token']),
    eosToken: tokenText(o['eos_token']),
    padToken: tokenText(o['pad_token']),
    addBosToken: o['add_bos_token'] === true,
    chatTemplate,
    modelMaxLength: typeof max === 'number' && max < 1e12 ? max : undefined,
  };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new TokenizerError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new TokenizerError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}

export class ModelTokenizer implements TextTokenizer {
  readonly config: TokenizerConfig;
  readonly #tok: HfTokenizer;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;

  constructor(tokenizerJson: object, config: TokenizerConfig, rawConfig: object) {
    this.config = config;
    this.#tok = new Tokenizer(tokenizerJson, rawConfig);
    this.bosId = config.bosToken === undefined ? undefined : this.#tok.token_to_id(config.bosToken);
    this.eosId = config.eosToken === undefined ? undefined : this.#tok.token_to_id(config.eosToken);
  }

  /** Reads tokenizer.json and tokenizer_config.json from a model folder. */
  static async fromDir(dir: string): Promise<ModelTokenizer> {
    const tj = await readJson(join(dir, 'tokenizer.json'));
    const cfgPath = join(dir, 'tokenizer_config.json');
    const cj = await readJson(cfgPath);
    if (tj === null || typeof tj !== 'object') {
      throw new TokenizerError(`${join(dir, 'tokenizer.json')}: not a JSON object`);
    }
    const config = parseTokenizerConfig(cj, cfgPath);
    return new ModelTokenizer(tj, config, cj as object);
  }

  /** Token ids of `text`; with addSpecialTokens (default) BOS is prepended per the config. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const add = options.addSpecialTokens ?? true;
    const ids = this.#tok.encode(text, { add_special_tokens: add }).ids;
    if (add && this.config.addBosToken && this.bosId !== undefined && ids[0] !== this.bosId) {
      return [this.bosId, ...ids];
    }
    return ids;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.#tok.decode(ids, { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  tokenToId(token: string): number | undefined {
    return this.#tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#tok.id_to_token(id);
  }
}
