// Which model the API, life-cycle and load tests serve: the committed tiny Llama fixture on the
// real engine (native runtime, CPU backend), its real tokenizer and chat template, through the
// production start-up path (load, profile, plan). The deterministic executor is kept for the
// scheduler unit tests only.
import { join } from 'node:path';
import { silentLogger } from '../../../src/log/logger.ts';
import { productionLoader } from '../../../src/server/bootstrap.ts';
import type { ServeConfig } from '../../../src/server/config.ts';
import type { Loader } from '../../../src/server/lifecycle.ts';

export const FIXTURE_MODEL_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'tiny-llama');
export const FIXTURE_MODEL_NAME = 'tiny-llama';

/** Flags every test server gets: the fixture model, one compute thread, a small iteration. */
export const FIXTURE_FLAGS = {
  model: FIXTURE_MODEL_DIR,
  modelName: FIXTURE_MODEL_NAME,
  device: 'cpu',
  threads: 1,
  maxNumBatchedTokens: 256,
} as const;

export function fixtureLoader(config: ServeConfig): Loader {
  return productionLoader(config, silentLogger());
}
