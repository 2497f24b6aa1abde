// The native addon is built on first use by the commands that load it: once, with progress, and a
// failed or impossible build says why.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureNativeAddon, missingBuildTools } from '../../src/cli/native-addon.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'selectn-addon-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A build script that counts its runs, prints two lines and writes the addon after a pause. */
function buildScript(body = ''): string {
  const script = join(dir, 'build.sh');
  writeFileSync(
    script,
    `set -e\necho run >> "${dir}/runs"\necho "compiling engine"\n${body}\nsleep 0.3\necho built > "${dir}/selectn.node"\necho "linking selectn.node"\n`,
  );
  return script;
}

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'], SELECTN_CACHE_DIR: dir });

describe('ensureNativeAddon', () => {
  it('builds a missing addon once for concurrent first uses, reporting the build output', async () => {
    const script = buildScript();
    const addon = join(dir, 'selectn.node');
    const lines: string[] = [];
    const options = {
      env: env(),
      addon,
      buildScript: script,
      onProgress: (l: string) => lines.push(l),
    };
    const [a, b] = await Promise.all([ensureNativeAddon(options), ensureNativeAddon(options)]);
    expect([a, b]).toEqual([addon, addon]);
    expect(readFileSync(join(dir, 'runs'), 'utf8')).toBe('run\n');
    expect(lines).toContain('native addon: compiling engine');
    expect(lines).toContain('native addon: linking selectn.node');
    expect(lines.some((l) => /^native addon: built in \d+ s$/.test(l))).toBe(true);
    // Present now: nothing runs again.
    await ensureNativeAddon(options);
    expect(readFileSync(join(dir, 'runs'), 'utf8')).toBe('run\n');
  });

  it('names the build command, its status and last output lines when the build fails', async () => {
    const script = buildScript('echo "engine.cc:12: error: boom" >&2; exit 2');
    const build = ensureNativeAddon({
      env: env(),
      addon: join(dir, 'selectn.node'),
      buildScript: script,
    });
    await expect(build).rejects.toThrow(`\`bash ${script}\` failed with exit status 2`);
    await expect(build).rejects.toThrow('| engine.cc:12: error: boom');
    expect(existsSync(join(dir, 'selectn.node'))).toBe(false);
  });

  it('leaves an addon named by SELECTN_NATIVE_ADDON alone', async () => {
    const script = buildScript();
    const named = join(dir, 'elsewhere.node');
    const result = await ensureNativeAddon({
      env: { ...env(), SELECTN_NATIVE_ADDON: named },
      addon: join(dir, 'selectn.node'),
      buildScript: script,
    });
    expect(result).toBe(named);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('names the missing build tools and their Debian packages instead of starting the build', async () => {
    expect(missingBuildTools({ PATH: join(dir, 'none') })).toBe(
      'the native build needs cmake, c++, make, not found on PATH; install: sudo apt-get install cmake g++ make',
    );
    expect(missingBuildTools(process.env)).toBeUndefined();
    const build = ensureNativeAddon({
      env: { PATH: join(dir, 'none'), SELECTN_CACHE_DIR: dir },
      addon: join(dir, 'selectn.node'),
      buildScript: buildScript(),
    });
    await expect(build).rejects.toThrow('install: sudo apt-get install cmake g++ make');
  });
});
