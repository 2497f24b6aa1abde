// Backend choice at start-up: --device cuda on an addon without CUDA, or with CUDA but no GPU
// visible (this machine), is refused with one line saying which, before anything is loaded, and
// `selectn serve` exits 2; --device auto falls back to the CPU and loads the fixture in its stored
// dtype there.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { DeviceUnavailableError, StartupError, loadEngine } from '../../src/server/bootstrap.ts';
import { parseServeConfig } from '../../src/server/config.ts';
import { backendCompiled, createRuntime } from '../../src/runtime/index.ts';
import { FIXTURE_FLAGS, FIXTURE_MODEL_DIR } from './helpers/fixture.ts';

const config = (flags: Record<string, unknown>) =>
  parseServeConfig({
    flags: { ...FIXTURE_FLAGS, sloTtftMs: 5000, sloTpotMs: 1000, ...flags },
    env: {},
    envNames: SERVE_ENV_NAMES,
  });

describe.skipIf(backendCompiled('cuda'))('backend choice without CUDA in the addon', () => {
  it('refuses --device cuda in one line naming the reason', async () => {
    const error = await loadEngine(config({ device: 'cuda' }), silentLogger()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    expect(message).toBe(
      '--device cuda: the native addon was built without CUDA (no CUDA toolkit at build time)',
    );
  });
});

/** Whether the CUDA backend can start here: compiled into the addon and a GPU visible. */
async function gpuVisible(): Promise<boolean> {
  if (!backendCompiled('cuda')) return false;
  try {
    const probe = await createRuntime({ backend: 'cuda', deviceBudgetBytes: 64 << 20 });
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(await gpuVisible())('--device cuda where it cannot run', () => {
  it('`selectn serve --device cuda` exits 2 with one line saying why', () => {
    const result = runCli([
      'serve',
      '--model',
      FIXTURE_MODEL_DIR,
      '--device',
      'cuda',
      '--port',
      '0',
      '--slo-ttft-ms',
      '5000',
      '--slo-tpot-ms',
      '1000',
    ]);
    expect(result.code).toBe(2);
    const reason = backendCompiled('cuda')
      ? /^selectn: --device cuda: no GPU visible \(.+\)$/m
      : /^selectn: --device cuda: the native addon was built without CUDA \(no CUDA toolkit at build time\)$/m;
    expect(result.stderr).toMatch(reason);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('selectn:'))).toHaveLength(1);
  });

  it('loadEngine refuses it with DeviceUnavailableError naming the reason', async () => {
    const error = await loadEngine(config({ device: 'cuda' }), silentLogger()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect((error as Error).message).toMatch(
      backendCompiled('cuda')
        ? /^--device cuda: no GPU visible \(.+\)$/
        : /^--device cuda: the native addon was built without CUDA/,
    );
  });

  it('--device auto runs on the CPU, weights at the dtype asked for', async () => {
    const engine = await loadEngine(config({ device: 'auto', dtype: 'bfloat16' }), silentLogger());
    try {
      expect(engine.backend).toBe('cpu');
      expect(engine.model.info.dtype).toBe('bfloat16');
      expect(engine.description.dtypeBytes).toBe(2);
      expect(engine.layerBytes).toBe(engine.model.info.layerBytes);
    } finally {
      await engine.model.close();
      await engine.runtime.close();
    }
  });
});
