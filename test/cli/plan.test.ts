import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

const base = [
  'plan',
  '--model',
  'llama-13b',
  '--gpu',
  'a100-40gb',
  '--slo-ttft-ms',
  '2000',
  '--slo-tpot-ms',
  '100',
];

// Each test spawns the CLI a few times; allow for a loaded 2-core machine.
describe('selectn plan', { timeout: 120_000 }, () => {
  it('prints the range, host memory, KV capacity and why', () => {
    const r = runCli(base);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/interval range: \[\d+, inf\]/);
    expect(r.stdout).toMatch(/host memory per replica: \d+\.\d+ GB/);
    expect(r.stdout).toContain('KV capacity:');
    expect(r.stdout).toContain('why:');
  });

  it('--json gives the plan object and --plot writes an SVG with the SLO line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-plan-'));
    const svg = join(dir, 'plan.svg');
    const r = runCli([...base, '--json', '--plot', svg]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({ model: 'llama-13b', hardware: 'a100-40gb', intervalMax: 0 });
    expect(typeof plan['intervalMin']).toBe('number');
    expect(typeof plan['hostMemoryBytes']).toBe('number');
    expect(Array.isArray(plan['explanation'])).toBe(true);
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain('TPOT SLO 100 ms');
    expect(text).toContain('batch 32');
  });

  it('reads model and GPU files, including a Hugging Face config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-plan-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        model_type: 'llama',
        num_hidden_layers: 32,
        hidden_size: 4096,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        intermediate_size: 14336,
        vocab_size: 128256,
        max_position_embeddings: 8192,
        torch_dtype: 'bfloat16',
      }),
    );
    const gpu = join(dir, 'gpu.yaml');
    writeFileSync(
      gpu,
      'name: my-l4\ngpuMemoryBytes: 24.15e9\nmemoryBandwidthBytesPerS: 3e11\npeakFlopsPerS: 1.21e14\nhostLink: { name: PCIe 4.0 x16, minBytesPerS: 1.2e10, maxBytesPerS: 2.4e10 }\n',
    );
    const r = runCli([
      'plan',
      '--model-file',
      config,
      '--gpu-file',
      gpu,
      '--slo-ttft-ms',
      '3000',
      '--slo-tpot-ms',
      '200',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ hardware: 'my-l4' });
  });

  it('exits 2 with one line naming the bad flag or field', () => {
    const unknown = runCli([
      'plan',
      '--model',
      'llama-14b',
      '--gpu',
      'a100-40gb',
      '--slo-ttft-ms',
      '2000',
      '--slo-tpot-ms',
      '100',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain(
      '--model: unknown model "llama-14b"; built-in models: llama-13b, opt-13b, llama-3-8b, llama-3-70b',
    );
    const gpu = runCli([
      'plan',
      '--model',
      'llama-13b',
      '--gpu',
      'v100',
      '--slo-ttft-ms',
      '2000',
      '--slo-tpot-ms',
      '100',
    ]);
    expect(gpu.code).toBe(2);
    expect(gpu.stderr).toContain('--gpu: unknown GPU "v100"; built-in GPUs: a100-40gb');
    const slo = runCli([
      'plan',
      '--model',
      'llama-13b',
      '--gpu',
      'a100-40gb',
      '--slo-ttft-ms',
      'fast',
      '--slo-tpot-ms',
      '100',
    ]);
    expect(slo.code).toBe(2);
    expect(slo.stderr).toContain('--slo-ttft-ms: must be a positive number, got "fast"');
    expect(
      runCli(['plan', '--model', 'llama-13b', '--gpu', 'a100-40gb', '--slo-tpot-ms', '100']).stderr,
    ).toContain('--slo-ttft-ms: required');
    const dir = mkdtempSync(join(tmpdir(), 'selectn-plan-'));
    const badModel = join(dir, 'model.yaml');
    writeFileSync(badModel, 'name: x\narchitecture: gpt\n');
    const field = runCli([
      'plan',
      '--model-file',
      badModel,
      '--gpu',
      'a100-40gb',
      '--slo-ttft-ms',
      '2000',
      '--slo-tpot-ms',
      '100',
    ]);
    expect(field.code).toBe(2);
    expect(field.stderr).toMatch(/--model-file: model file field architecture:/);
    expect(
      runCli([
        'plan',
        '--model-file',
        join(dir, 'missing.yaml'),
        '--gpu',
        'a100-40gb',
        '--slo-ttft-ms',
        '1',
        '--slo-tpot-ms',
        '1',
      ]).stderr,
    ).toContain('--model-file: cannot read');
  });

  it('exits 1 explaining an SLO no interval can meet', () => {
    const r = runCli([
      'plan',
      '--model',
      'llama-13b',
      '--gpu',
      'a100-40gb',
      '--slo-ttft-ms',
      '2000',
      '--slo-tpot-ms',
      '10',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'the SLO cannot be met for llama-13b on a100-40gb even with no offloading',
    );
  });

  it('has --help', () => {
    const r = runCli(['plan', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--slo-tpot-ms');
    expect(r.stdout).toContain('--profile');
  });
});
