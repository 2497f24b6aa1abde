// Bounded load test on loopback: concurrent streaming clients, a fixed number of requests, some
// cancelled mid-stream; every request completes or fails with a proper error, none hangs, and
// KV blocks and host memory return to their idle level afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { fixtureLoader, FIXTURE_MODEL_NAME } from './helpers/fixture.ts';

const REQUESTS = 48;
const CONCURRENCY = 12;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer(fixtureLoader, { maxQueue: 8, maxNumSeqs: 6 });
}, 120_000);

afterAll(async () => {
  await t.close();
});

/** Small seeded generator (mulberry32) so the load is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'completed' | 'rejected' | 'cancelled';

async function one(index: number, random: () => number): Promise<Outcome> {
  const cancel = random() < 0.15;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(`request ${index} hung`));
  }, 60_000);
  try {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: FIXTURE_MODEL_NAME,
        messages: [
          {
            role: 'user',
            content: `request ${index} ${'word '.repeat(1 + Math.floor(random() * 12))}`,
          },
        ],
        max_tokens: 4 + Math.floor(random() * 24),
        temperature: random() < 0.5 ? 0 : 0.8,
        seed: index,
        stream: true,
      }),
      signal: controller.signal,
    });
    if (res.status === 429) {
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('SN_ERR_QUEUE_FULL');
      expect(res.headers.get('retry-after')).not.toBeNull();
      return 'rejected';
    }
    expect(res.status).toBe(200);
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (!reader) throw new Error('no body');
    let text = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
      if (cancel && text.includes('"content"')) {
        controller.abort();
        return 'cancelled';
      }
    }
    expect(text).toMatch(/"finish_reason":"(stop|length)"/);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    return 'completed';
  } catch (error) {
    if (cancel && controller.signal.aborted && !(controller.signal.reason instanceof Error))
      return 'cancelled';
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

describe('loopback load', () => {
  it('completes or properly refuses every request and returns to idle', async () => {
    const serving = t.server.state.serving;
    if (serving === undefined) throw new Error('not ready');
    const idle = serving.engine.status();
    const random = rng(20250213);
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        const index = next++;
        outcomes.push(await one(index, random));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(outcomes.length).toBe(REQUESTS);
    expect(outcomes.filter((o) => o === 'completed').length).toBeGreaterThan(REQUESTS / 2);
    const deadline = Date.now() + 10_000;
    while (serving.engine.inFlight > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(serving.engine.inFlight).toBe(0);
    const after = serving.engine.status();
    expect(after.kvBlocksFree).toBe(idle.kvBlocksFree);
    expect(after.hostBytesUsed).toBe(idle.hostBytesUsed);
  });
});
