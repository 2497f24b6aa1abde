// Overload and shutdown over real HTTP: queue full gives 429 with Retry-After; SIGTERM-style
// shutdown stops admitting (503), lets in-flight requests finish, then closes.
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers/server.ts';
import { fixtureLoader, FIXTURE_MODEL_NAME } from './helpers/fixture.ts';
import type { Loader } from '../../src/server/lifecycle.ts';

function completion(url: string, maxTokens: number, stream = false) {
  return fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: FIXTURE_MODEL_NAME,
      prompt: 'a b c',
      max_tokens: maxTokens,
      ignore_eos: true,
      temperature: 0,
      stream,
    }),
  });
}

describe('overload', () => {
  it('answers 429 with Retry-After when the queue is full, and serves the rest', async () => {
    const t = await startTestServer(fixtureLoader, { maxQueue: 1, maxNumSeqs: 1 });
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, () => completion(t.url, 24)));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      for (const r of responses) {
        const body = (await r.json()) as { error?: { code: string } };
        if (r.status === 429) {
          expect(body.error?.code).toBe('SN_ERR_QUEUE_FULL');
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        }
      }
    } finally {
      await t.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('stops admitting, finishes in-flight requests, then closes', async () => {
    const t = await startTestServer(fixtureLoader, { gracePeriodS: 30 });
    const inFlight = completion(t.url, 40, true);
    const res = await inFlight;
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    const first = await reader?.read();
    expect(first?.done).toBe(false);
    const shutdown = t.server.shutdown('SIGTERM');
    // Not ready any more, and new work is refused with 503 while draining.
    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(503);
    const refused = await completion(t.url, 4);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'SN_ERR_SHUTTING_DOWN',
    );
    // The in-flight stream runs to its end.
    let text = new TextDecoder().decode(first?.value);
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toContain('"finish_reason":"length"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await shutdown;
    expect(t.server.state.phase).toBe('stopped');
  });

  it('resolves only after the engine and runtime are closed', async () => {
    let closed = false;
    const loader = (config: Parameters<typeof fixtureLoader>[0]): Loader => {
      const inner = fixtureLoader(config);
      return async (metrics, setPhase) => {
        const loaded = await inner(metrics, setPhase);
        return {
          ...loaded,
          close: async () => {
            await loaded.close();
            closed = true;
          },
        };
      };
    };
    const t = await startTestServer(loader);
    await t.server.ready;
    await t.server.shutdown('SIGTERM');
    expect(closed).toBe(true);
  });

  it('aborts what is left when the grace period runs out', async () => {
    const t = await startTestServer(fixtureLoader, { gracePeriodS: 0.2 });
    const res = await completion(t.url, 100, true).catch(() => undefined);
    void res?.body?.getReader().read();
    await t.server.shutdown('SIGTERM');
    expect(t.server.state.phase).toBe('stopped');
  });
});
