import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

const base = [
  'simulate',
  '--model',
  'llama-13b',
  '--gpu',
  'a100-40gb',
  '--slo-ttft-ms',
  '2000',
  '--slo-tpot-ms',
  '100',
  '--rate',
  '3',
  '--requests',
  '80',
  '--fixed-intervals',
  '4,13',
];

// Each test spawns the CLI a few times; allow for a loaded 2-core machine.
describe('selectn simulate', { timeout: 120_000 }, () => {
  it('prints a table with every policy', () => {
    const r = runCli(base);
    expect(r.code).toBe(0);
    for (const name of [
      'select-n',
      'fixed-n-4',
      'fixed-n-13',
      'no-offload',
      'full-streaming',
      'static-placement',
      'zero-copy',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
    }
    expect(r.stdout).toContain('tok/s@SLO');
  });

  it('--json has the policies list and --plot writes an SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-sim-'));
    const svg = join(dir, 'sim.svg');
    const r = runCli([
      ...base,
      '--trace',
      'bursty',
      '--json',
      '--plot',
      svg,
      '--bandwidth-drop-at-s',
      '5',
      '--bandwidth-drop-to',
      '12e9',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      policies: Record<string, unknown>[];
      bandwidth: unknown;
    };
    expect(report.bandwidth).toEqual({
      initialBytesPerS: 24e9,
      change: { atS: 5, toBytesPerS: 12e9 },
    });
    for (const p of report.policies) {
      expect(p).toHaveProperty('policy');
      expect(p).toHaveProperty('hostMemoryBytes');
      if (p['feasible'] === true) {
        expect(typeof p['throughputTokensPerS']).toBe('number');
        expect(typeof p['sloAttainment']).toBe('number');
      }
    }
    const text = readFileSync(svg, 'utf8');
    expect(text).toContain('SLO attainment');
    expect(text).toContain('select-n');
  });

  it('exits 2 naming the bad flag', () => {
    const trace = runCli([...base, '--trace', 'uniform']);
    expect(trace.code).toBe(2);
    expect(trace.stderr).toContain('--trace: must be poisson or bursty, got "uniform"');
    expect(runCli([...base, '--bandwidth-drop-at-s', '3']).code).toBe(2);
    expect(
      runCli(['simulate', '--gpu', 'l4', '--slo-ttft-ms', '1', '--slo-tpot-ms', '1']).stderr,
    ).toContain('--model: required');
  });

  it('--capacity reports each policy with both admissions, and bad flags exit 2', () => {
    const capacity = [
      'simulate',
      '--capacity',
      '--model',
      'llama-13b',
      '--gpu',
      'a100-40gb',
      '--slo-ttft-ms',
      '2000',
      '--slo-tpot-ms',
      '70',
      '--requests',
      '60',
      '--seeds',
      '1,2,3',
      '--prompt-range',
      '512-1536',
      '--json',
    ];
    const r = runCli(capacity);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      prompt: { min: number; max: number };
      seeds: number[];
      policies: { policy: string; capacityRps: number; capacity90Rps: number }[];
    };
    expect(report.prompt).toMatchObject({ min: 512, max: 1536 });
    expect(report.seeds).toEqual([1, 2, 3]);
    const names = report.policies.map((p) => p.policy);
    for (const mechanism of [
      'select-n',
      'no-offload',
      'zero-inference',
      'flexgen-slo',
      'zero-copy',
    ]) {
      expect(names).toContain(`${mechanism}+slo-admission`);
      expect(names).toContain(`${mechanism}+kv-admission`);
    }
    const selectN = report.policies.find((p) => p.policy === 'select-n+slo-admission');
    expect(selectN?.capacityRps).toBeGreaterThan(0);
    expect(selectN?.capacity90Rps).toBeGreaterThanOrEqual(selectN?.capacityRps ?? Infinity);
    const bad = runCli([...capacity.slice(0, -3), '--prompt-range', '900-100']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--prompt-range: expected MIN-MAX tokens');
  });

  it('has --help', () => {
    const r = runCli(['simulate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--bandwidth-drop-to');
  });
});
