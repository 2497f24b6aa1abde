import { describe, expect, it } from 'vitest';
import { DEMO_BINARIES, DEMO_TOOLS, demoCalls } from '../../src/cli/demo.ts';
import { CLUSTER_BINARIES } from '../../src/cluster/cluster.ts';
import { runCli } from './run-cli.ts';

// The full demo (cluster, helm, SelectNDeployment, chat) is what test/operator/e2e.test.ts covers
// step by step; here: the demo's own flags and its planner part.
describe('selectn demo', () => {
  it('--planner-only prints the plan and the policy comparison', () => {
    const result = runCli(['demo', '--planner-only']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('interval range: [11, inf]');
    expect(result.stdout).toMatch(/^select-n\s+\d/m);
    expect(result.stdout).toMatch(/^no-offload\s+\d/m);
  });

  it('exits 2 naming --timeout when it is not a positive integer', () => {
    const result = runCli(['demo', '--timeout', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout');
  });
});

describe('the binaries the demo ensures', () => {
  const calls = Object.values(
    demoCalls({ repoRoot: '/repo', operatorBundle: '/repo/dist/op.mjs', node: '/n', timeoutS: 9 }),
  );

  it('are exactly what cluster up runs plus every tool the demo calls (helm included)', () => {
    const called = new Set(calls.map((c) => c.tool));
    expect([...called].sort()).toEqual([...DEMO_TOOLS].sort());
    expect([...DEMO_BINARIES].sort()).toEqual(
      [...new Set([...CLUSTER_BINARIES, ...called])].sort(),
    );
    expect(DEMO_BINARIES).toContain('helm');
  });

  it('install the chart with the bundled operator and apply the example with the repo path', () => {
    const all = demoCalls({ repoRoot: '/r', operatorBundle: '/r/op.mjs', node: '/n', timeoutS: 9 });
    expect(all.install.args).toContain('operator.command=["/n","/r/op.mjs","operator"]');
    expect(all.apply.input).toContain('/r/test/fixtures/tiny-llama');
    expect(all.apply.input).not.toContain('__REPO__');
  });
});
