// `selectn serve` as the operator runs it: a real process configured by SELECTN_* variables only,
// a one-line error and exit 2 on bad configuration, and on SIGTERM a drain that lets an in-flight
// streaming request finish, then exit 0.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { FIXTURE_MODEL_DIR, FIXTURE_MODEL_NAME } from './helpers/fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');
const cli = join(root, 'src', 'cli', 'selectn.ts');

function envOf(values: Partial<Record<keyof typeof SERVE_ENV_NAMES, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(values)) {
    env[SERVE_ENV_NAMES[key as keyof typeof SERVE_ENV_NAMES]] = value;
  }
  return env;
}

describe('selectn serve process', () => {
  it('exits 2 with one line naming the variable or flag on bad configuration', () => {
    const bad = spawnSync(node, [cli, 'serve'], {
      env: envOf({ model: FIXTURE_MODEL_DIR, sloTtftMs: '500', sloTpotMs: 'fast' }),
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('SELECTN_SLO_TPOT_MS');
    const missing = spawnSync(
      node,
      [cli, 'serve', '--model', '/nonexistent', '--slo-ttft-ms', '1', '--slo-tpot-ms', '1'],
      {
        encoding: 'utf8',
      },
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--model');
  });

  it('serves from SELECTN_* variables and drains on SIGTERM, exiting 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-cli-test-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'secret-token\n');
    const child = spawn(node, [cli, 'serve', '--threads', '1'], {
      env: envOf({
        model: FIXTURE_MODEL_DIR,
        modelName: FIXTURE_MODEL_NAME,
        sloTtftMs: '5000',
        sloTpotMs: '1000',
        device: 'cpu',
        port: '0',
        host: '127.0.0.1',
        controlTokenFile: tokenFile,
        logLevel: 'info',
        maxNumSeqs: '4',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const m = /"port":(\d+)/.exec(log);
        if (m) resolve(Number(m[1]));
      });
      void exited.then(() => {
        reject(new Error(`exited early: ${log}`));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${url}/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('never ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: FIXTURE_MODEL_NAME,
        prompt: 'drain me',
        max_tokens: 40,
        ignore_eos: true,
        stream: true,
      }),
    });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (reader === undefined) throw new Error('no body');
    const first = await reader.read();
    expect(first.done).toBe(false);
    child.kill('SIGTERM');
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toMatch(/"finish_reason":"length"/);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);
  }, 90_000);
});
