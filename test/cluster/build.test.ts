// A cluster binary build that cannot run says which binary, which command and why.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBinaries } from '../../src/cluster/build.ts';

describe('ensureBinaries', () => {
  it('names the binary, the go command, its status and output when go is not on PATH', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'selectn-build-'));
    const lines: string[] = [];
    try {
      const build = ensureBinaries({
        env: { SELECTN_CACHE_DIR: cache, PATH: join(cache, 'empty') },
        only: ['helm'],
        onProgress: (p) => lines.push(p.line),
      });
      await expect(build).rejects.toThrow(/^building helm v3\.\d+\.\d+ \(the Go toolchain/);
      await expect(build).rejects.toThrow(
        /`\/(usr\/)?bin\/nice -n 10 go build .* helm\.sh\/helm\/v3\/cmd\/helm`/,
      );
      await expect(build).rejects.toThrow(/failed with exit status 127\n {2}last output lines:\n/);
      expect(lines).toEqual([expect.stringMatching(/^\[1\/1\] helm v3\.\d+\.\d+: building from/)]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
