import { describe, expect, it } from 'vitest';
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
