// Starts a real `selectn serve` app on 127.0.0.1 with a random port, for API tests over HTTP.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_ENV_NAMES } from '../../../src/api/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { parseServeConfig, type ServeConfig } from '../../../src/server/config.ts';
import { startServer, type Loader, type RunningServer } from '../../../src/server/lifecycle.ts';
import { monotonicClock } from '../../../src/server/serving.ts';
import { FIXTURE_FLAGS } from './fixture.ts';

export const CONTROL_TOKEN = 'test-token-0123456789';

export interface TestServer {
  server: RunningServer;
  config: ServeConfig;
  url: string;
  tokenFile: string;
  close(): Promise<void>;
}

export async function startTestServer(
  load: (config: ServeConfig) => Loader,
  flags: Record<string, unknown> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'selectn-serve-test-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${CONTROL_TOKEN}\n`);
  const config = parseServeConfig({
    flags: {
      ...FIXTURE_FLAGS,
      sloTtftMs: 5000,
      sloTpotMs: 1000,
      host: '127.0.0.1',
      port: 0,
      controlTokenFile: tokenFile,
      logLevel: 'silent',
      gracePeriodS: 10,
      ...flags,
    },
    env: {},
    envNames: SERVE_ENV_NAMES,
  });
  const server = await startServer(config, silentLogger(), monotonicClock, load(config));
  await server.ready;
  return {
    server,
    config,
    url: `http://127.0.0.1:${server.address.port}`,
    tokenFile,
    close: () => server.shutdown('test done'),
  };
}
