// API tests over real HTTP (127.0.0.1, random port) against the server running a fixture model.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PlanAckSchema,
  TelemetrySnapshotSchema,
  WIRE_SCHEMA_VERSION,
} from '../../src/api/index.ts';
import { CONTROL_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';
import { fixtureLoader, FIXTURE_MODEL_NAME } from './helpers/fixture.ts';

let t: TestServer;
let client: OpenAI;

beforeAll(async () => {
  t = await startTestServer(fixtureLoader, { maxQueue: 64, bodyLimitBytes: 64 * 1024 });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await t.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    res,
    text,
    json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

function errorOf(json: Record<string, unknown> | undefined): {
  code: string;
  param: string | null;
  message: string;
} {
  const error = json?.['error'] as
    { code: string; param: string | null; message: string } | undefined;
  if (error === undefined) throw new Error(`no error body in ${JSON.stringify(json)}`);
  return error;
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: FIXTURE_MODEL_NAME,
  messages: [{ role: 'user', content }],
  max_tokens: 8,
  temperature: 0,
  ...extra,
});

describe('health and models', () => {
  it('is live and ready, and lists the model', async () => {
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(200);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([FIXTURE_MODEL_NAME]);
  });
});

describe('OpenAI API through the official client', () => {
  it('answers a chat completion, non-streaming and streaming alike (greedy)', async () => {
    const full = await client.chat.completions.create({
      model: FIXTURE_MODEL_NAME,
      messages: [{ role: 'user', content: 'Hello there' }],
      max_completion_tokens: 12,
      temperature: 0,
    });
    const choice = full.choices[0];
    expect(choice?.message.role).toBe('assistant');
    expect(typeof choice?.message.content).toBe('string');
    expect(['stop', 'length']).toContain(choice?.finish_reason);
    expect(full.usage?.completion_tokens).toBeGreaterThan(0);
    expect(full.usage?.completion_tokens).toBeLessThanOrEqual(12);
    expect(full.usage?.total_tokens).toBe(
      (full.usage?.prompt_tokens ?? 0) + (full.usage?.completion_tokens ?? 0),
    );

    const stream = await client.chat.completions.create({
      model: FIXTURE_MODEL_NAME,
      messages: [{ role: 'user', content: 'Hello there' }],
      max_completion_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(choice?.message.content);
    expect(finish).toBe(choice?.finish_reason);
    expect(usage?.completion_tokens).toBe(full.usage?.completion_tokens);
  });

  it('answers text completions, with logprobs, streaming and not', async () => {
    const full = await client.completions.create({
      model: FIXTURE_MODEL_NAME,
      prompt: 'The capital of',
      max_tokens: 6,
      temperature: 0,
      logprobs: 2,
    });
    const choice = full.choices[0];
    expect(choice?.logprobs?.tokens?.length).toBe(full.usage?.completion_tokens);
    for (const lp of choice?.logprobs?.token_logprobs ?? []) expect(lp).toBeLessThanOrEqual(0);
    const stream = await client.completions.create({
      model: FIXTURE_MODEL_NAME,
      prompt: 'The capital of',
      max_tokens: 6,
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(choice?.text);
  });

  it('gives the same text for the same seed when sampling', async () => {
    const ask = () =>
      client.chat.completions.create({
        model: FIXTURE_MODEL_NAME,
        messages: [{ role: 'user', content: 'Tell me something' }],
        max_completion_tokens: 10,
        temperature: 0.9,
        top_p: 0.95,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- the field under test
        seed: 1234,
      });
    const [a, b] = await Promise.all([ask(), ask()]);
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
  });

  it('stops at a stop string, which is not part of the output', async () => {
    const base = await client.completions.create({
      model: FIXTURE_MODEL_NAME,
      prompt: 'One two three',
      max_tokens: 12,
      temperature: 0,
    });
    const text = base.choices[0]?.text ?? '';
    const cut = text.slice(2, 4);
    if (cut.length === 0) return; // the model ended at once; nothing to cut
    const stopped = await client.completions.create({
      model: FIXTURE_MODEL_NAME,
      prompt: 'One two three',
      max_tokens: 12,
      temperature: 0,
      stop: [cut],
    });
    expect(stopped.choices[0]?.text).toBe(text.slice(0, text.indexOf(cut)));
    expect(stopped.choices[0]?.finish_reason).toBe('stop');
  });

  it('maps unknown models to the client NotFoundError', async () => {
    await expect(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('errors', () => {
  it('400 for malformed JSON', async () => {
    const { res, json } = await post('/v1/chat/completions', '{"model": ');
    expect(res.status).toBe(400);
    expect(errorOf(json).code).toBe('SN_ERR_INVALID_JSON');
  });

  it('400 naming the field for a schema violation', async () => {
    const { res, json } = await post('/v1/chat/completions', {
      model: FIXTURE_MODEL_NAME,
      messages: [{ role: 'wizard', content: 'x' }],
    });
    expect(res.status).toBe(400);
    const error = errorOf(json);
    expect(error.code).toBe('SN_ERR_INVALID_REQUEST');
    expect(error.param).toBe('messages.0.role');
    expect(error.message).toMatch(/^messages\.0\.role: /);
    const n2 = await post('/v1/chat/completions', chat('x', { n: 2 }));
    expect(n2.res.status).toBe(400);
    expect(errorOf(n2.json).param).toBe('n');
  });

  it('400 for a prompt longer than the context, and for max_tokens past it', async () => {
    const maxLen = t.server.state.serving?.maxModelLen ?? 0;
    const long = await post('/v1/completions', {
      model: FIXTURE_MODEL_NAME,
      prompt: Array.from({ length: maxLen + 1 }, () => 5),
    });
    expect(long.res.status).toBe(400);
    expect(errorOf(long.json).code).toBe('SN_ERR_PROMPT_TOO_LONG');
    const past = await post('/v1/completions', {
      model: FIXTURE_MODEL_NAME,
      prompt: [5, 6, 7],
      max_tokens: maxLen,
    });
    expect(past.res.status).toBe(400);
    expect(errorOf(past.json).param).toBe('max_tokens');
  });

  it('413 for a body over the limit', async () => {
    const { res, json } = await post('/v1/chat/completions', chat('x'.repeat(100 * 1024)));
    expect(res.status).toBe(413);
    expect(errorOf(json).code).toBe('SN_ERR_BODY_TOO_LARGE');
  });

  it('404 for an unknown model and an unknown route', async () => {
    const model = await post('/v1/chat/completions', { ...chat('x'), model: 'gpt-17' });
    expect(model.res.status).toBe(404);
    expect(errorOf(model.json)).toMatchObject({ code: 'SN_ERR_MODEL_NOT_FOUND', param: 'model' });
    const route = await fetch(`${t.url}/v2/nothing`);
    expect(route.status).toBe(404);
  });
});

describe('control endpoints', () => {
  const auth = { authorization: `Bearer ${CONTROL_TOKEN}` };

  it('401 without or with a wrong token', async () => {
    const none = await fetch(`${t.url}/v1/selectn/telemetry`);
    expect(none.status).toBe(401);
    expect(errorOf((await none.json()) as Record<string, unknown>).code).toBe(
      'SN_ERR_UNAUTHORIZED',
    );
    const wrong = await fetch(`${t.url}/v1/selectn/telemetry`, {
      headers: { authorization: `Bearer ${CONTROL_TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    const plan = await fetch(`${t.url}/v1/selectn/plan`, {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(plan.status).toBe(401);
  });

  it('serves a telemetry snapshot that matches the shared schema', async () => {
    await client.completions.create({ model: FIXTURE_MODEL_NAME, prompt: 'warm', max_tokens: 3 });
    const res = await fetch(`${t.url}/v1/selectn/telemetry`, { headers: auth });
    expect(res.status).toBe(200);
    const snapshot = TelemetrySnapshotSchema.parse(await res.json());
    expect(snapshot.ready).toBe(true);
    expect(snapshot.model.name).toBe(FIXTURE_MODEL_NAME);
    expect(snapshot.interval.iterations).toBeGreaterThan(0);
    expect(snapshot.slo.requestsFinished).toBeGreaterThan(0);
  });

  it('applies a plan between iterations and acknowledges the plan in force', async () => {
    const current = TelemetrySnapshotSchema.parse(
      await (await fetch(`${t.url}/v1/selectn/telemetry`, { headers: auth })).json(),
    ).plan;
    const plan = {
      ...current,
      generation: current.generation + 1,
      bandwidthBudgetBytesPerSecond: 5e8,
      basis: 'bus-budget test',
      issuedAt: new Date().toISOString(),
    };
    const put = (body: unknown) =>
      fetch(`${t.url}/v1/selectn/plan`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await put(plan);
    expect(ok.status).toBe(200);
    const ack = PlanAckSchema.parse(await ok.json());
    expect(ack.plan.generation).toBe(plan.generation);
    expect(ack.plan.bandwidthBudgetBytesPerSecond).toBe(5e8);
    const stale = await put({ ...plan, generation: plan.generation - 1 });
    expect(stale.status).toBe(409);
    const infeasible = await put({
      ...plan,
      generation: plan.generation + 1,
      interval: { min: 1, max: 1 },
      hostMemoryBytes: 1,
    });
    expect(infeasible.status).toBe(422);
    const invalid = await put({
      ...plan,
      schemaVersion: WIRE_SCHEMA_VERSION,
      interval: { min: 4, max: 2 },
    });
    expect(invalid.status).toBe(400);
    expect(errorOf((await invalid.json()) as Record<string, unknown>)).toMatchObject({
      code: 'SN_ERR_INVALID_PLAN',
      param: 'interval.min',
    });
  });
});

describe('metrics', () => {
  it('exposes latency histograms, tokens, batch, queue, interval, pools and SLO attainment', async () => {
    await client.chat.completions.create(
      chat('metrics please') as OpenAI.ChatCompletionCreateParamsNonStreaming,
    );
    const text = await (await fetch(`${t.url}/metrics`)).text();
    for (const name of [
      'selectn_time_to_first_token_seconds_bucket',
      'selectn_time_per_output_token_seconds_bucket',
      'selectn_e2e_request_latency_seconds_bucket',
      'selectn_prompt_tokens_total',
      'selectn_generation_tokens_total',
      'selectn_batch_size_bucket',
      'selectn_queue_depth',
      'selectn_preemptions_total',
      'selectn_interval ',
      'selectn_interval_iterations_total',
      'selectn_stall_seconds_total',
      'selectn_copy_bandwidth_bytes_per_second',
      'selectn_host_pool_used_bytes',
      'selectn_device_pool_used_bytes',
      'selectn_kv_blocks_free',
      'selectn_slo_attainment',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/selectn_generation_tokens_total \d+/);
  });
});

describe('cancellation', () => {
  it('a client that disconnects cancels its request and frees its KV blocks', async () => {
    const serving = t.server.state.serving;
    if (serving === undefined) throw new Error('not ready');
    const idleFree = serving.engine.status().kvBlocksFree;
    const controller = new AbortController();
    const res = await fetch(`${t.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: FIXTURE_MODEL_NAME,
        prompt: 'count forever',
        max_tokens: serving.maxModelLen - 16,
        ignore_eos: true,
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    await reader?.read();
    expect(serving.engine.inFlight).toBe(1);
    controller.abort();
    const deadline = Date.now() + 10_000;
    while (serving.engine.inFlight > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(serving.engine.inFlight).toBe(0);
    expect(serving.engine.status().kvBlocksFree).toBe(idleFree);
  });
});
