// The server half of the in-place host-memory resize, against a real `selectn serve` (the tiny
// Llama fixture on the native CPU engine) started with --host-memory for every layer (start-up
// holds them all in the host pool): a pushed plan's hostMemoryBytes becomes the pinned host
// pool's limit. Narrowing from below lowers it once the pool released the layers above it;
// widening raises it again so the larger offload set fits; a plan whose memory cannot hold its
// interval.min is refused and the limit in force stays.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanWire, TelemetrySnapshot } from '../../src/api/index.ts';
import { fetchTelemetry } from '../../src/operator/telemetry/fetch.ts';
import { pushPlan } from '../../src/operator/telemetry/push.ts';
import { hostMemoryAtInterval, validateModelDescription } from '../../src/planner/index.ts';
import { FIXTURE_MODEL_NAME, fixtureLoader } from '../server/helpers/fixture.ts';
import { startTestServer, type TestServer } from '../server/helpers/server.ts';

let t: TestServer;
let token: string;
let model: ReturnType<typeof validateModelDescription>;
const bytesAt = (n: number) => hostMemoryAtInterval(model, n);

beforeAll(async () => {
  // The model's layer bytes, from a first server's telemetry (what the operator plans with).
  t = await startTestServer(fixtureLoader, { sloTtftMs: 5000, sloTpotMs: 1000 });
  token = readFileSync(t.tokenFile, 'utf8').trim();
  const planning = (await read()).planning;
  if (planning === undefined) throw new Error('telemetry carries no planning inputs');
  model = validateModelDescription(planning.model, 'planning.model');
  await t.close();
  t = await startTestServer(fixtureLoader, {
    sloTtftMs: 5000,
    sloTpotMs: 1000,
    hostMemory: String(bytesAt(1)),
  });
  token = readFileSync(t.tokenFile, 'utf8').trim();
}, 180_000);

afterAll(async () => {
  await t.close();
});

async function read(): Promise<TelemetrySnapshot> {
  const outcome = await fetchTelemetry(t.url, token, 5000);
  if (outcome.kind !== 'ok') throw new Error(`telemetry: ${outcome.kind} ${outcome.message}`);
  return outcome.snapshot;
}

/** A short request: the engine settles pool changes between the iterations it runs. */
async function complete(): Promise<void> {
  const res = await fetch(`${t.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: FIXTURE_MODEL_NAME,
      prompt: 'the host pool follows the plan',
      max_tokens: 6,
      ignore_eos: true,
      temperature: 0,
    }),
  });
  expect(res.status, await res.text()).toBe(200);
}

describe("a pushed plan resizes the pod's pinned host pool", () => {
  it('lowers the limit after the pool shrank, raises it to widen, refuses a plan without memory', async () => {
    const before = await read();
    const L = model.numLayers;
    expect(before.pools.hostCapacityBytes).toBe(bytesAt(1));
    let generation = before.plan.generation;
    const push = (min: number, hostMemoryBytes: number) => {
      const plan: PlanWire = {
        ...before.plan,
        generation: ++generation,
        interval: { min, max: null },
        hostMemoryBytes,
        basis: `measured: host-resize test, interval.min ${min}`,
        issuedAt: new Date().toISOString(),
      };
      return pushPlan(t.url, token, plan, 10_000);
    };

    // Narrowing from below: one layer offloaded at most; the limit drops once the pool did.
    expect(bytesAt(L)).toBeLessThan(bytesAt(2));
    expect(await push(L, bytesAt(L))).toMatchObject({ kind: 'applied' });
    await complete();
    let now = await read();
    expect(now.pools.hostUsedBytes).toBeLessThanOrEqual(bytesAt(L));
    expect(now.pools.hostCapacityBytes).toBe(bytesAt(L));
    expect(now.plan.interval.min).toBe(L);

    // Widening: the limit is raised for the set of interval 2, the pool grows into it.
    expect(await push(2, bytesAt(2))).toMatchObject({ kind: 'applied' });
    await complete();
    now = await read();
    expect(now.pools.hostCapacityBytes).toBe(bytesAt(2));
    expect(now.plan.interval.min).toBe(2);

    // Memory that cannot hold interval.min 1: refused (422), the limit and plan in force stay.
    const refused = await push(1, bytesAt(2));
    expect(refused).toMatchObject({ kind: 'refused', status: 422, code: 'SN_ERR_PLAN_INFEASIBLE' });
    await complete();
    now = await read();
    expect(now.plan.generation).toBe(generation - 1);
    expect(now.pools.hostCapacityBytes).toBe(bytesAt(2));

    // Back to every layer: the limit returns to the whole model.
    expect(await push(1, bytesAt(1))).toMatchObject({ kind: 'applied' });
    await complete();
    now = await read();
    expect(now.pools.hostCapacityBytes).toBe(bytesAt(1));
    expect(now.plan.interval.min).toBe(1);
  }, 120_000);
});
