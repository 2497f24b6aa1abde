// Tokenizer (tokenizer.json via @huggingface/tokenizers), chat templates (@huggingface/jinja),
// incremental detokenization and stop conditions, against the committed fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../src/runtime/chat-template.ts';
import { IncrementalDetokenizer } from '../../src/runtime/detokenizer.ts';
import { StopChecker } from '../../src/runtime/stop.ts';
import {
  ModelTokenizer,
  TokenizerError,
  parseTokenizerConfig,
} from '../../src/runtime/tokenizer.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'tiny-llama');
let tok: ModelTokenizer;

beforeAll(async () => {
  tok = await ModelTokenizer.fromDir(dir);
});

describe('ModelTokenizer', () => {
  it('encodes the golden prompts exactly as the Python tokenizer did (BOS prepended)', () => {
    const g = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as {
      prompts: string[];
      runs: { promptIds: number[] }[];
    };
    g.prompts.forEach((p, i) => {
      expect(tok.encode(p)).toEqual(g.runs[i]?.promptIds);
    });
    expect(tok.encode('hi', { addSpecialTokens: false })[0]).not.toBe(tok.bosId);
  });

  it('round-trips any text through encode and decode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(tok.decode(tok.encode(s, { addSpecialTokens: false }))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });

  it('reports unreadable folders and bad configs clearly', async () => {
    await expect(ModelTokenizer.fromDir('/nonexistent')).rejects.toThrow(/tokenizer\.json/);
    expect(() => parseTokenizerConfig([], 'x.json')).toThrow(TokenizerError);
    expect(() => parseTokenizerConfig({ chat_template: 3 }, 'x.json')).toThrow(/chat_template/);
    const c = parseTokenizerConfig(
      { bos_token: { content: '<s>' }, chat_template: [{ name: 'default', template: 'T' }] },
      'x.json',
    );
    expect(c.bosToken).toBe('<s>');
    expect(c.chatTemplate).toBe('T');
  });
});

describe('ChatTemplate', () => {
  it('renders the fixture template with the generation prompt', () => {
    const t = new ChatTemplate(tok.config);
    const text = t.render([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
    expect(text).toBe('<s><|system|>\nBe brief.</s>\n<|user|>\nHello</s>\n<|assistant|>\n');
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(ids[0]).toBe(tok.bosId);
    expect(ids).toContain(tok.tokenToId('<|assistant|>'));
    expect(
      t.render([{ role: 'user', content: 'x' }], { addGenerationPrompt: false }),
    ).not.toContain('assistant');
  });

  it("renders Qwen2's ChatML (tiny-qwen2): no BOS, <|im_start|>/<|im_end|> single tokens, EOS <|im_end|>", async () => {
    const qwen = await ModelTokenizer.fromDir(join(dir, '..', 'tiny-qwen2'));
    const text = new ChatTemplate(qwen.config).render([{ role: 'user', content: 'Hello' }]);
    expect(text).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
    );
    const ids = qwen.encode(text, { addSpecialTokens: true });
    expect(qwen.bosId).toBeUndefined();
    expect(ids[0]).toBe(qwen.tokenToId('<|im_start|>'));
    expect(ids.filter((id) => id === qwen.tokenToId('<|im_end|>'))).toHaveLength(2);
    expect(qwen.eosId).toBe(qwen.tokenToId('<|im_end|>'));
  });

  it('rejects a missing or broken template', () => {
    expect(() => new ChatTemplate({ addBosToken: false })).toThrow(/no chat_template/);
    expect(() => new ChatTemplate({ addBosToken: false, chatTemplate: '{% for %}' })).toThrow(
      TokenizerError,
    );
  });
});

describe('IncrementalDetokenizer', () => {
  it('emits exactly the decoded text, never half a character', () => {
    // U+FFFD is excluded from the input: the assertion below looks for it as the sign of a
    // half-emitted character.
    const text = fc
      .string({ unit: 'grapheme', maxLength: 30 })
      .filter((s) => !s.includes('\uFFFD'));
    fc.assert(
      fc.property(text, (s) => {
        const ids = tok.encode(s, { addSpecialTokens: false });
        const d = new IncrementalDetokenizer(tok);
        let out = '';
        for (const id of ids) {
          const delta = d.push(id);
          expect(delta).not.toContain('\uFFFD');
          out += delta;
        }
        out += d.flush();
        expect(out).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('holds a multi-byte character split across byte tokens until it completes', () => {
    const bytes = [...Buffer.from('🙂', 'utf8')];
    // Byte-level BPE: each byte has its own token in the base alphabet.
    const ids = bytes.map((b) => {
      const id = tok.tokenToId(byteToUnicode(b));
      if (id === undefined) throw new Error(`no token for byte ${b}`);
      return id;
    });
    const d = new IncrementalDetokenizer(tok);
    const deltas = ids.map((id) => d.push(id));
    expect(deltas.slice(0, 3)).toEqual(['', '', '']);
    expect(deltas[3]).toBe('🙂');
  });
});

/** GPT-2 byte-to-unicode map (the ByteLevel pre-tokenizer's alphabet). */
function byteToUnicode(b: number): string {
  const printable = (x: number) =>
    (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  if (printable(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!printable(x)) n++;
  return String.fromCharCode(256 + n);
}

describe('StopChecker', () => {
  it('stops on stop tokens, cuts at stop strings and holds back partial matches', () => {
    const s = new StopChecker({ stopStrings: ['END'], stopTokenIds: [2], maxTokens: 100 });
    expect(s.push(10, 'abc E')).toEqual({ text: 'abc ', finished: undefined });
    expect(s.push(11, 'N')).toEqual({ text: '', finished: undefined });
    expect(s.push(12, 'Dxyz')).toEqual({ text: '', finished: 'stop' });
    const t = new StopChecker({ stopTokenIds: [2], maxTokens: 100 });
    expect(t.push(5, 'hi')).toEqual({ text: 'hi', finished: undefined });
    expect(t.push(2, '')).toEqual({ text: '', finished: 'stop' });
  });

  it('finishes with length at maxTokens and releases held text', () => {
    const s = new StopChecker({ stopStrings: ['###'], maxTokens: 2 });
    expect(s.push(1, 'a#')).toEqual({ text: 'a', finished: undefined });
    expect(s.push(1, 'b')).toEqual({ text: '#b', finished: 'length' });
    expect(() => new StopChecker({ maxTokens: 0 })).toThrow(RangeError);
  });

  it('never emits a stop string (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 12 }), (chunks) => {
        const s = new StopChecker({ stopStrings: ['ab'], maxTokens: 1000 });
        let out = '';
        for (const c of chunks) {
          const r = s.push(1, c);
          out += r.text;
          if (r.finished) break;
        }
        if (!s.finished) out += s.flush();
        const all = chunks.join('');
        const cut = all.indexOf('ab');
        expect(out).toBe(cut >= 0 ? all.slice(0, cut) : all);
      }),
    );
  });
});
