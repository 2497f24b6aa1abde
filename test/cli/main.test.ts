import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

describe('selectn CLI', () => {
  it('prints help and exits 0', () => {
    const result = runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: selectn');
  });

  it('exits 2 naming an unknown flag', () => {
    const result = runCli(['--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--no-such-flag'");
  });
});
