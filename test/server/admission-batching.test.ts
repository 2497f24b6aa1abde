// Issue 14 on the real engine (native runtime, CPU backend, the tiny Llama fixture): with a TPOT
// target of 3x the measured decode step and light load, concurrent requests are batched and every
// one meets the SLO. Admission that priced every iteration as if it carried the candidate's
// prefill chunk refused to batch them once one such iteration exceeded the TPOT (here a chunk of
// the prompt costs several decode steps), and the queue ran one request at a time.
import { afterAll, describe, expect, it } from 'vitest';
import type { FinishedRecord, IterationRecord } from '../../src/server/engine-loop.ts';
import { fixtureLoader, FIXTURE_MODEL_NAME } from './helpers/fixture.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const CONCURRENT = 2;
const MAX_TOKENS = 256;
/**
 * Prompt words (~4 tokens each, ~200 tokens): a prefill chunk of the prompt costs tens of decode
 * steps, so pricing each iteration as carrying one refuses to batch, while over a request's 255
 * decode steps the other request's prefill adds little to its mean TPOT.
 */
const PROMPT_WORDS = 50;

interface Observed {
  iterations: IterationRecord[];
  finished: FinishedRecord[];
}

const servers: TestServer[] = [];

async function start(sloTpotMs: number): Promise<{ t: TestServer; seen: Observed }> {
  const t = await startTestServer(fixtureLoader, {
    sloTtftMs: 5000,
    sloTpotMs,
    maxNumSeqs: 8,
  });
  servers.push(t);
  const seen: Observed = { iterations: [], finished: [] };
  const serving = t.server.state.serving;
  if (serving === undefined) throw new Error('server has no serving state after ready');
  serving.engine.observe({
    onIteration: (r) => seen.iterations.push(r),
    onFinished: (r) => seen.finished.push(r),
  });
  return { t, seen };
}

async function complete(t: TestServer, index: number): Promise<void> {
  const res = await fetch(`${t.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: FIXTURE_MODEL_NAME,
      prompt: `request ${index} ${'word '.repeat(PROMPT_WORDS)}`,
      max_tokens: MAX_TOKENS,
      ignore_eos: true,
      temperature: 0,
    }),
  });
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
}

/** Server-side mean TPOT of a finished request, as the SLO defines it. */
const tpotOf = (r: FinishedRecord): number =>
  (r.finishedMs - (r.firstTokenMs ?? r.finishedMs)) / Math.max(1, r.completionTokens - 1);

afterAll(async () => {
  for (const t of servers) await t.close();
});

describe('admission on the real engine at a tight TPOT (3x the decode step)', () => {
  it('batches concurrent requests and every one meets TTFT and TPOT', async () => {
    // The decode step as the SLO measures it: a lone request's mean TPOT, loop overhead included.
    const lax = await start(1000);
    await complete(lax.t, 0);
    await complete(lax.t, 1);
    const alone = lax.seen.finished[1];
    if (alone === undefined) throw new Error('the lone request did not finish');
    expect(alone.completionTokens).toBe(MAX_TOKENS);
    const stepMs = tpotOf(alone);
    expect(stepMs).toBeGreaterThan(0);
    const chunkIterations = lax.seen.iterations.filter((i) => i.output.shape.newTokens > 1);
    const chunkMs = Math.max(...chunkIterations.map((i) => i.result.elapsedMs));
    await lax.t.close();

    const sloTpotMs = 3 * stepMs;
    const { t, seen } = await start(sloTpotMs);
    await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => complete(t, 10 + i)));
    const batch = Math.max(...seen.iterations.map((i) => i.output.seqs.length));
    const report = {
      stepMs,
      chunkMs,
      sloTpotMs,
      batch,
      tpots: seen.finished.map(tpotOf),
      ttfts: seen.finished.map((r) => (r.firstTokenMs ?? Infinity) - r.arrivalMs),
    };
    expect(seen.finished, JSON.stringify(report)).toHaveLength(CONCURRENT);
    expect(batch, JSON.stringify(report)).toBe(CONCURRENT);
    for (const r of seen.finished) {
      expect(r.completionTokens).toBe(MAX_TOKENS);
      expect(tpotOf(r), JSON.stringify(report)).toBeLessThanOrEqual(sloTpotMs);
      expect((r.firstTokenMs ?? Infinity) - r.arrivalMs).toBeLessThanOrEqual(5000);
    }
  }, 120_000);
});
