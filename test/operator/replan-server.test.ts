// The slow loop's HTTP half against a real `selectn serve` (the tiny Llama fixture on the native
// CPU engine): its telemetry passes the shared schema and carries what it planned with; the
// operator's planner re-derives a range from that measurement for a model no catalog knows; the
// server puts the pushed plan in force, refuses a stale generation (409) and a plan whose host
// memory cannot hold interval.min (422), keeping the plan in force.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanWire } from '../../src/api/index.ts';
import { planFromMeasurement } from '../../src/operator/replan.ts';
import { fetchTelemetry } from '../../src/operator/telemetry/fetch.ts';
import { pushPlan } from '../../src/operator/telemetry/push.ts';
import { fixtureLoader } from '../server/helpers/fixture.ts';
import { startTestServer, type TestServer } from '../server/helpers/server.ts';

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer(fixtureLoader, { sloTtftMs: 5000, sloTpotMs: 1000 });
  token = readFileSync(t.tokenFile, 'utf8').trim();
}, 180_000);

afterAll(async () => {
  await t.close();
});

async function read() {
  const outcome = await fetchTelemetry(t.url, token, 5000);
  if (outcome.kind !== 'ok') throw new Error(`telemetry: ${outcome.kind} ${outcome.message}`);
  return outcome.snapshot;
}

describe('re-planning a real serving pod', () => {
  it("plans from the pod's measurement and the pod puts the plan in force", async () => {
    const before = await read();
    const planning = before.planning;
    if (planning === undefined) throw new Error('telemetry carries no planning inputs');
    expect(planning.model['name']).toBe('tiny-llama');
    expect(planning.copyBandwidthBytesPerSecond).toBeGreaterThan(0);
    const desired = planFromMeasurement({
      planning,
      slo: { ttftMs: 5000, tpotMs: 1000 },
      bounds: undefined,
      hostCeilingBytes: Infinity,
    });
    const plan: PlanWire = {
      ...before.plan,
      generation: before.plan.generation + 1,
      interval: { min: desired.intervalMin, max: desired.intervalMax },
      hostMemoryBytes: desired.hostMemoryBytes,
      basis: `measured: ${desired.detail}`,
      issuedAt: new Date().toISOString(),
    };
    const pushed = await pushPlan(t.url, token, plan, 10_000);
    expect(pushed.kind).toBe('applied');
    const after = await read();
    expect(after.plan.generation).toBe(plan.generation);
    expect(after.plan.basis).toMatch(/^measured: tiny-llama: measured profile/);
    expect(after.plan.interval).toEqual(plan.interval);
    expect(after.pools.hostCapacityBytes).toBeGreaterThanOrEqual(desired.hostMemoryBytes);

    // A lower generation than the one in force: 409, the plan stays.
    const stale = await pushPlan(t.url, token, { ...plan, generation: 0 }, 10_000);
    expect(stale).toMatchObject({ kind: 'refused', status: 409, code: 'SN_ERR_STALE_PLAN' });
    // Host memory that cannot hold interval.min 1 (every layer): 422, the plan stays.
    const tooSmall = await pushPlan(
      t.url,
      token,
      {
        ...plan,
        generation: plan.generation + 1,
        interval: { min: 1, max: 1 },
        hostMemoryBytes: 1,
      },
      10_000,
    );
    expect(tooSmall).toMatchObject({
      kind: 'refused',
      status: 422,
      code: 'SN_ERR_PLAN_INFEASIBLE',
    });
    expect((await read()).plan.generation).toBe(plan.generation);
  }, 60_000);
});
