// The serving core on the real engine with tiny-mistral (sliding window 6): one request generates
// far past the window while the KV blocks it holds stay bounded (blocks before the window go back
// to the pool as it advances), and its greedy tokens are the golden's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { setUpEngine, type EngineSetup } from '../../src/server/bootstrap.ts';
import { parseServeConfig } from '../../src/server/config.ts';
import type { RequestOutput } from '../../src/server/scheduler/request.ts';
import { createServing, monotonicClock } from '../../src/server/serving.ts';
import type { Serving } from '../../src/server/state.ts';
import { FIXTURE_FLAGS } from './helpers/fixture.ts';

const MODEL_DIR = join(import.meta.dirname, '..', 'fixtures', 'tiny-mistral');
const GENERATED = 300;

interface Golden {
  runs: { promptIds: number[]; greedyIds: number[] }[];
}

describe('serving a sliding-window model', () => {
  let setup: EngineSetup;
  let serving: Serving;

  beforeAll(async () => {
    const config = parseServeConfig({
      flags: {
        ...FIXTURE_FLAGS,
        model: MODEL_DIR,
        modelName: 'tiny-mistral',
        sloTtftMs: 5000,
        sloTpotMs: 1000,
      },
      env: {},
      envNames: SERVE_ENV_NAMES,
    });
    const logger = silentLogger();
    setup = await setUpEngine(config, logger, () => undefined);
    serving = createServing({
      config: { ...config, maxModelLen: setup.maxModelLen },
      engine: setup.adapter,
      text: setup.text,
      policy: setup.policy,
      planTarget: setup.planTarget,
      initialPlan: setup.initialPlan,
      modelName: 'tiny-mistral',
      modelInfo: {
        numLayers: setup.engine.model.info.layers,
        layerBytes: setup.engine.layerBytes,
        dtype: setup.engine.model.info.dtype,
      },
      clock: monotonicClock,
      logger,
    });
  }, 60_000);

  afterAll(async () => {
    await serving.engine.stop();
    await setup.adapter.close();
  });

  it('generates far past the window holding at most the window plus one block, golden tokens first', async () => {
    const golden = JSON.parse(readFileSync(join(MODEL_DIR, 'golden.json'), 'utf8')) as Golden;
    const run = golden.runs[0];
    if (run === undefined) throw new Error('golden has no run');
    const { adapter } = setup;
    expect(adapter.slidingWindow).toBe(6);
    const blockSize = adapter.kv.blockSize;
    let mostUsed = 0;
    serving.engine.observe({
      onIteration: () => {
        mostUsed = Math.max(mostUsed, adapter.kv.usedBlocks());
      },
    });
    const outputs: RequestOutput[] = [];
    await new Promise<void>((resolve) => {
      serving.engine.add(
        {
          id: 'long',
          promptTokenIds: run.promptIds,
          maxTokens: GENERATED,
          sampling: {
            temperature: 0,
            topP: 1,
            topK: 0,
            minP: 0,
            presencePenalty: 0,
            frequencyPenalty: 0,
            repetitionPenalty: 1,
            seed: 1,
            logprobs: null,
          },
          stopTokenIds: [],
          arrivalMs: monotonicClock.now(),
        },
        {
          onOutput: (o) => {
            outputs.push(o);
            if (o.finishReason !== undefined) resolve();
          },
        },
      );
    });
    const tokens = outputs.flatMap((o) => o.newTokenIds);
    expect(tokens).toHaveLength(GENERATED);
    expect(outputs.at(-1)?.finishReason).toBe('length');
    expect(tokens.slice(0, run.greedyIds.length)).toEqual(run.greedyIds);
    // The context reaches prompt + 300 tokens (20 blocks of 16); the request held at most
    // ceil(6 / 16) + 1 = 2 blocks at once.
    const context = run.promptIds.length + GENERATED;
    expect(Math.ceil(context / blockSize)).toBeGreaterThan(10);
    expect(mostUsed).toBeGreaterThan(0);
    expect(mostUsed).toBeLessThanOrEqual(Math.ceil(6 / blockSize) + 1);
    expect(adapter.kv.usedBlocks()).toBe(0);
  }, 60_000);
});
