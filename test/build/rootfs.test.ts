// The image build's checks: a missing tool names its Debian package, a library the addon or Node
// loads that the image lacks fails the build with its package, and .deb names parse into pins.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkSharedLibraries,
  missingImageTools,
  missingToolsMessage,
  pinOfDebFile,
  sourceDateEpoch,
} from '../../src/build/image/rootfs.ts';

describe('image build checks', () => {
  it('names the missing tools and the Debian packages that bring them', () => {
    const missing = missingImageTools({ PATH: '/nonexistent' });
    expect(missing.map((t) => t.program)).toEqual(['mmdebstrap', 'tar']);
    expect(missingToolsMessage(missing)).toBe(
      'the image build needs mmdebstrap, tar, not found on PATH; install: sudo apt-get install mmdebstrap tar',
    );
  });

  it('fails naming each library a binary loads that the root filesystem lacks', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'selectn-rootfs-'));
    try {
      await expect(
        checkSharedLibraries(empty, [{ path: process.execPath, label: 'node' }]),
      ).rejects.toThrow(
        /the image lacks .*libstdc\+\+\.so\.6 \(needed by node; Debian package libstdc\+\+6\)/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('turns fetched .deb names into name=version pins', () => {
    expect(pinOfDebFile('zlib1g_1%3a1.2.13.dfsg-1_amd64.deb')).toBe('zlib1g=1:1.2.13.dfsg-1');
    expect(pinOfDebFile('libc6_2.36-9+deb12u14_amd64.deb')).toBe('libc6=2.36-9+deb12u14');
    expect(pinOfDebFile('partial')).toBeUndefined();
  });

  it('takes file times from SOURCE_DATE_EPOCH and refuses a bad one', () => {
    expect(sourceDateEpoch({})).toBe(0);
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' })).toBe(1700000000);
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow('SOURCE_DATE_EPOCH');
  });
});
