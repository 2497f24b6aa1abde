// The engine adapter over the real runtime and the tiny Llama fixture: the local KV store never
// loses or duplicates a block, real iterations sample tokens, lowering N takes effect at once,
// and raising N (which needs device room the KV store had reserved) completes because the
// adapter gives spare blocks back while the switch waits.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { setUpEngine, type EngineSetup } from '../../src/server/bootstrap.ts';
import { parseServeConfig } from '../../src/server/config.ts';
import { ReservedKvPool } from '../../src/server/engine-adapter.ts';
import type { SamplingParams, SeqWork } from '../../src/server/engine-port.ts';
import { FIXTURE_FLAGS } from './helpers/fixture.ts';

describe('ReservedKvPool', () => {
  it('hands out each reserved block once and takes back exactly what it gave', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 60 }),
        (reserved, ops) => {
          const pool = new ReservedKvPool(16, 100);
          for (let b = 0; b < reserved; b++) pool.spare.push(b);
          const held: number[][] = [];
          for (const [alloc, n] of ops) {
            if (alloc) {
              const free = pool.freeBlocks();
              const got = pool.allocate(n);
              if (n > free) expect(got).toBeNull();
              else {
                expect(got).toHaveLength(n);
                held.push(got ?? []);
              }
            } else if (held.length > 0) {
              pool.free(held.splice(n % held.length, 1)[0] ?? []);
            }
            const out = held.flat();
            expect(new Set(out).size).toBe(out.length);
            expect(pool.usedBlocks() + pool.freeBlocks()).toBe(reserved);
          }
          expect(() => {
            pool.free([reserved + 1]);
          }).toThrow(/freed twice or never allocated/);
        },
      ),
    );
  });
});

const greedy: SamplingParams = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  seed: 1,
  logprobs: null,
};

/** Starts the real engine on the fixture for the enclosing describe and closes it after. */
function realEngine(
  slo: { sloTtftMs: number; sloTpotMs: number },
  deviceMemory: string,
): () => EngineSetup {
  let setup: EngineSetup | undefined;
  beforeAll(async () => {
    const config = parseServeConfig({
      flags: { ...FIXTURE_FLAGS, ...slo, deviceMemory },
      env: {},
      envNames: SERVE_ENV_NAMES,
    });
    setup = await setUpEngine(config, silentLogger(), () => undefined);
  }, 60_000);
  afterAll(async () => {
    await setup?.adapter.close();
  });
  return () => {
    if (setup === undefined) throw new Error('the engine did not start');
    return setup;
  };
}

describe('EngineAdapter on the real runtime', () => {
  const engine = realEngine({ sloTtftMs: 5000, sloTpotMs: 1000 }, '6MiB');

  it('runs real iterations and follows the interval asked for, lowering and raising N', async () => {
    const { adapter } = engine();
    const prompt = [1, 17, 42, 99, 7, 3, 250, 11];
    const blocks = adapter.kv.allocate(2);
    if (blocks === null) throw new Error('no KV room at all');
    const work = (tokens: number[], start: number, output: number[]): SeqWork => ({
      requestId: 'r',
      tokenIds: tokens,
      startPosition: start,
      blockTable: blocks,
      sample: true,
      sampling: greedy,
      outputTokenIds: output,
      promptTokenIds: prompt,
    });
    const output: number[] = [];
    await adapter.refresh();
    let result = await adapter.execute({ interval: 1, seqs: [work(prompt, 0, output)] });
    expect(result.sampled).toHaveLength(1);
    expect(result.interval).toBe(1);
    expect(adapter.status().offloadedLayers).toBe(4);
    expect(adapter.kv.freeBlocks()).toBeGreaterThan(0);
    // Raising to "nothing offloaded" needs room for every layer: the store must give blocks back.
    let spareReturned = false;
    for (let k = 0; k < 40 && adapter.status().interval !== 0; k++) {
      const token = result.sampled[0]?.tokenId ?? 0;
      output.push(token);
      await adapter.refresh();
      result = await adapter.execute({
        interval: 0,
        seqs: [work([token], prompt.length + output.length - 1, output)],
      });
      if (adapter.kv.freeBlocks() === 0) spareReturned = true;
    }
    expect(spareReturned).toBe(true);
    expect(adapter.status().interval).toBe(0);
    expect(adapter.status().offloadedLayers).toBe(0);
    adapter.kv.free(blocks);
  });
});

// A pool of GiBs holds hundreds of thousands of tiny-llama KV blocks (16 KiB each). The adapter
// once appended them with push(...ids), which overflows the call stack past ~100k arguments; the
// top-up swallowed that as "no room" with every block reserved in the runtime, so the store stayed
// empty and each request waited forever. The arena is mapped without reserving memory, and KV
// blocks are not touched until written, so this does not use GiBs of real memory.
describe('EngineAdapter with a device pool of many GiB', () => {
  const started = realEngine({ sloTtftMs: 2000, sloTpotMs: 200 }, '16GiB');

  it('reserves the pool into the local store and serves a real iteration from it', async () => {
    const { adapter, engine } = started();
    const blockBytes = engine.model.info.kvBlockBytes;
    // Everything but the scratch headroom and the resident weights: about 900k blocks.
    const expected = Math.floor((adapter.status().deviceBytesTotal * 0.8) / blockBytes);
    expect(expected).toBeGreaterThan(500_000);
    expect(adapter.kv.freeBlocks()).toBeGreaterThan(expected);
    const prompt = [1, 17, 42, 99, 7, 3, 250, 11];
    const blocks = adapter.kv.allocate(1);
    if (blocks === null) throw new Error('the KV store is empty');
    await adapter.refresh();
    const result = await adapter.execute({
      interval: adapter.status().interval,
      seqs: [
        {
          requestId: 'r',
          tokenIds: prompt,
          startPosition: 0,
          blockTable: blocks,
          sample: true,
          sampling: greedy,
          outputTokenIds: [],
          promptTokenIds: prompt,
        },
      ],
    });
    expect(result.sampled).toHaveLength(1);
    adapter.kv.free(blocks);
  });
});
