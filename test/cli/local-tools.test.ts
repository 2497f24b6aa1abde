// `selectn kubectl` and `selectn helm` run the pinned tools against the local cluster's kubeconfig
// and pass their exit status through.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPaths } from '../../src/cluster/build.ts';
import { binRoot } from '../../src/cluster/paths.ts';
import { HELM_VERSION } from '../../src/cluster/versions.ts';
import { runCli } from './run-cli.ts';

describe('selectn kubectl / helm', () => {
  it.each(['kubectl', 'helm'])('%s: names the missing cluster and how to start it', (tool) => {
    const cache = mkdtempSync(join(tmpdir(), 'selectn-tools-'));
    try {
      const result = runCli([tool, 'version'], { SELECTN_CACHE_DIR: cache });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `selectn: cluster default has no kubeconfig at ${cache}/cluster/default/kubeconfig; run: selectn cluster up\n`,
      );
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('exits 2 on a bad SELECTN_CLUSTER', () => {
    const result = runCli(['helm', 'list'], { SELECTN_CLUSTER: '../etc' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^selectn: SELECTN_CLUSTER: /);
  });

  // The pinned helm exists once `npm run cluster:build` (part of npm test) has run.
  describe.skipIf(!existsSync(binaryPaths().helm))('with the built helm', () => {
    let cache: string;
    let state: string;
    beforeAll(() => {
      cache = mkdtempSync(join(tmpdir(), 'selectn-tools-'));
      symlinkSync(binRoot(), join(cache, 'bin'));
      state = join(cache, 'cluster', 'default');
      mkdirSync(state, { recursive: true });
      // A cluster at a closed port: helm's error shows which kubeconfig it read.
      writeFileSync(
        join(state, 'kubeconfig'),
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
          'users: [{name: u, user: {token: t}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
          '',
        ].join('\n'),
      );
    });
    afterAll(() => {
      rmSync(cache, { recursive: true, force: true });
    });

    it('runs the pinned helm with the cluster kubeconfig and its own helm folders', () => {
      const version = runCli(['helm', 'version', '--template', '{{.Version}}'], {
        SELECTN_CACHE_DIR: cache,
      });
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout).toBe(HELM_VERSION);
      const env = runCli(['helm', 'env'], { SELECTN_CACHE_DIR: cache });
      expect(env.stdout).toContain(`HELM_CACHE_HOME="${state}/helm/cache"`);
      expect(env.stdout).toContain(`HELM_CONFIG_HOME="${state}/helm/config"`);
      const list = runCli(['helm', 'list', '-A'], { SELECTN_CACHE_DIR: cache });
      expect(list.code).toBe(1);
      expect(list.stderr).toContain('https://127.0.0.1:1');
    });

    it("exits with helm's own status and adds no message of its own", () => {
      const result = runCli(['helm', 'no-such-command'], { SELECTN_CACHE_DIR: cache });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('unknown command "no-such-command"');
      expect(result.stderr).not.toContain('selectn:');
    });
  });
});
