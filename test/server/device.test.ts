// Backend choice at start-up: --device cuda on an addon without CUDA (this machine's build) is
// refused with one line saying so, before anything is loaded; --device auto falls back to the CPU
// and loads the fixture in its stored dtype there.
import { describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { StartupError, loadEngine } from '../../src/server/bootstrap.ts';
import { parseServeConfig } from '../../src/server/config.ts';
import { backendCompiled } from '../../src/runtime/index.ts';
import { FIXTURE_FLAGS } from './helpers/fixture.ts';

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
