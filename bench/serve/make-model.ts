// Writes a Llama-architecture model folder with seeded random weights (float32), for the serving
// benchmark: bigger than the committed fixtures so that layer copies and compute take measurable
// time on the CPU backend. Not committed; the tokenizer is the tiny fixture's (vocabulary 512).
// Grouped-query attention (2 KV heads of 8) keeps the KV cache per byte of weights nearer a 13B
// model's: at hidden 256 full multi-head KV would be 20x larger relative to the weights than
// llama-13b's, so the device would hold only ~3 requests where an A100 holds ~40 (bench/README.md).
//   node bench/serve/make-model.ts --out ~/.cache/selectn/bench-llama-kv2 --layers 12 --hidden 256 --kv-heads 2
import { copyFileSync, mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom } from '../../src/planner/index.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    layers: { type: 'string', default: '12' },
    hidden: { type: 'string', default: '256' },
    intermediate: { type: 'string', default: '688' },
    heads: { type: 'string', default: '8' },
    'kv-heads': { type: 'string', default: '2' },
    seed: { type: 'string', default: '7' },
  },
});
if (values.out === undefined) throw new Error('--out: required');
const out = values.out;
const L = Number(values.layers);
const H = Number(values.hidden);
const I = Number(values.intermediate);
const heads = Number(values.heads);
const kvHeads = Number(values['kv-heads']);
if (!(kvHeads >= 1 && heads % kvHeads === 0)) throw new Error('--kv-heads: must divide --heads');
const kvDim = (H / heads) * kvHeads;
const V = 512;
const fixture = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'tiny-llama');

const tensors: [string, number[]][] = [['model.embed_tokens.weight', [V, H]]];
for (let i = 0; i < L; i++) {
  const p = `model.layers.${i}`;
  tensors.push(
    [`${p}.input_layernorm.weight`, [H]],
    [`${p}.self_attn.q_proj.weight`, [H, H]],
    [`${p}.self_attn.k_proj.weight`, [kvDim, H]],
    [`${p}.self_attn.v_proj.weight`, [kvDim, H]],
    [`${p}.self_attn.o_proj.weight`, [H, H]],
    [`${p}.post_attention_layernorm.weight`, [H]],
    [`${p}.mlp.gate_proj.weight`, [I, H]],
    [`${p}.mlp.up_proj.weight`, [I, H]],
    [`${p}.mlp.down_proj.weight`, [H, I]],
  );
}
tensors.push(['model.norm.weight', [H]], ['lm_head.weight', [V, H]]);

const header: Record<string, unknown> = {};
let offset = 0;
for (const [name, shape] of tensors) {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
  offset += bytes;
}
let headerText = JSON.stringify(header);
headerText += ' '.repeat((8 - (headerText.length % 8)) % 8);
mkdirSync(out, { recursive: true });
const fd = openSync(join(out, 'model.safetensors'), 'w');
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(headerText.length));
writeSync(fd, len);
writeSync(fd, Buffer.from(headerText));
const rand = seededRandom(Number(values.seed));
for (const [name, shape] of tensors) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const norm = name.endsWith('norm.weight');
  for (let k = 0; k < n; k++) data[k] = norm ? 1 : (rand.next() * 2 - 1) * 0.05;
  writeSync(fd, Buffer.from(data.buffer));
}
closeSync(fd);
writeFileSync(
  join(out, 'config.json'),
  `${JSON.stringify(
    {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: H,
      intermediate_size: I,
      num_hidden_layers: L,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      max_position_embeddings: 1024,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      vocab_size: V,
      bos_token_id: 1,
      eos_token_id: 2,
      tie_word_embeddings: false,
      torch_dtype: 'float32',
    },
    null,
    2,
  )}\n`,
);
copyFileSync(join(fixture, 'tokenizer.json'), join(out, 'tokenizer.json'));
copyFileSync(join(fixture, 'tokenizer_config.json'), join(out, 'tokenizer_config.json'));
console.log(`wrote ${out}: ${L} layers, ${kvHeads} KV heads, ${(offset / 2 ** 20).toFixed(1)} MiB`);
