// Failed tool runs say what ran, how it ended and what it printed last: never "undefined".
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  runAttached,
  runTool,
  ToolError,
  whenSpawned,
} from '../../src/process/run-tool.ts';

async function failure(promise: Promise<unknown>): Promise<ToolError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).not.toContain('undefined');
    return error as ToolError;
  }
  throw new Error('expected the tool run to fail');
}

describe('runTool', () => {
  it('returns stdout and stderr of a tool that exits 0, feeding it its input', async () => {
    const result = await runTool('sh', ['-c', 'cat; echo warn >&2'], { input: 'hello\n' });
    expect(result.stdout).toBe('hello\n');
    expect(result.stderr).toBe('warn\n');
  });

  it('names the command, its exit status and only the last lines of its output', async () => {
    const error = await failure(
      runTool('sh', ['-c', 'for i in $(seq 1 30); do echo line$i; done; echo oops >&2; exit 3'], {
        tailLines: 5,
      }),
    );
    expect(error.ending).toEqual({ kind: 'exit', code: 3 });
    expect(error.message).toContain("`sh -c 'for i in");
    expect(error.message).toContain('failed with exit status 3');
    expect(error.outputTail.split('\n')).toEqual(['line27', 'line28', 'line29', 'line30', 'oops']);
    expect(error.message).not.toContain('line25');
  });

  it('gives the OS error of a program that does not exist', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'run-tool-')), 'helm');
    const error = await failure(runTool(missing, ['version']));
    expect(error.ending.kind).toBe('spawn');
    expect(error.message).toContain(`\`${missing} version\` could not start`);
    expect(error.message).toContain('ENOENT');
    expect(error.message).toContain('no such program');
  });

  it('says a file is not executable', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'run-tool-')), 'tool');
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    const error = await failure(runTool(file, []));
    expect(error.ending).toMatchObject({ kind: 'spawn', code: 'EACCES' });
    expect(error.message).toContain('not executable');
  });

  it('reports a signal and a timeout', async () => {
    const killed = await failure(runTool('sh', ['-c', 'echo before; kill -9 $$']));
    expect(killed.ending).toEqual({ kind: 'signal', signal: 'SIGKILL' });
    expect(killed.message).toContain('was killed by SIGKILL');
    expect(killed.outputTail).toBe('before');
    const slow = await failure(runTool('sleep', ['30'], { timeoutMs: 200 }));
    expect(slow.ending).toEqual({ kind: 'timeout', ms: 200 });
    expect(slow.message).toContain('`sleep 30` timed out after 0 s');
  });

  it('passes each output line to onLine as it arrives', async () => {
    const lines: string[] = [];
    await runTool('sh', ['-c', 'echo a; echo b >&2; printf c'], { onLine: (l) => lines.push(l) });
    expect(lines.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('commandLine', () => {
  it('quotes words a shell would split or expand', () => {
    expect(commandLine('helm', ['--set-json', 'a=["x y"]', "it's", 'plain/path.yaml'])).toBe(
      `helm --set-json 'a=["x y"]' 'it'\\''s' plain/path.yaml`,
    );
  });
});

describe('runAttached and whenSpawned', () => {
  it('returns the exit status of an attached tool and rejects one that cannot start', async () => {
    expect(await runAttached('sh', ['-c', 'exit 4'])).toBe(4);
    const error = await failure(runAttached('/nonexistent/kubectl', ['get', 'pods']));
    expect(error.message).toContain('`/nonexistent/kubectl get pods` could not start');
  });

  it('resolves when a background child runs and rejects with the OS error when it cannot', async () => {
    const ok = spawn('sleep', ['0'], { stdio: 'ignore' });
    await whenSpawned(ok, 'sleep', ['0']);
    const bad = spawn('/nonexistent/etcd', ['--name', 'x'], { stdio: 'ignore' });
    const error = await failure(whenSpawned(bad, '/nonexistent/etcd', ['--name', 'x']));
    expect(error.message).toContain('ENOENT');
  });
});
