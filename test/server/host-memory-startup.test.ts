// Start-up under a --host-memory limit smaller than the model's decoder layers (the operator sizes
// it for N_min's offload set): the real `selectn serve` on the tiny Llama fixture loads, profiles
// and plans within the largest nested offload set that fits, never holding more pinned host
// memory than the limit, and serves; a limit with which the device pool cannot hold the layers
// left resident is refused in one line (exit 2), naming the limit and the least that would work.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES, type TelemetrySnapshot } from '../../src/api/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { fetchTelemetry } from '../../src/operator/telemetry/fetch.ts';
import { hostMemoryAtInterval, type ModelDescription } from '../../src/planner/index.ts';
import {
  HostMemoryTooSmallError,
  readModelDescription,
  setUpEngine,
} from '../../src/server/bootstrap.ts';
import { parseServeConfig } from '../../src/server/config.ts';
import {
  FIXTURE_FLAGS,
  FIXTURE_MODEL_DIR,
  FIXTURE_MODEL_NAME,
  fixtureLoader,
} from './helpers/fixture.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const root = join(import.meta.dirname, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');
const cli = join(root, 'src', 'cli', 'selectn.ts');

let model: ModelDescription;
const bytesAt = (n: number): number => hostMemoryAtInterval(model, n);

beforeAll(async () => {
  model = await readModelDescription(FIXTURE_MODEL_DIR, FIXTURE_MODEL_NAME);
});

describe('a host-memory limit below the whole model', () => {
  let t: TestServer | undefined;
  let limit: number;

  beforeAll(async () => {
    // The 4-layer fixture's nested sets: interval 1 offloads all 4 layers, 2 offloads 2. The
    // limit holds interval 2's set and not the whole model; the device pool (the size the engine
    // adapter test uses) makes the planner offload every layer, which this limit cannot hold.
    limit = bytesAt(2);
    expect(limit).toBeLessThan(bytesAt(1));
    t = await startTestServer(fixtureLoader, {
      deviceMemory: '6MiB',
      hostMemory: String(limit),
    });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  async function telemetry(): Promise<TelemetrySnapshot> {
    if (t === undefined) throw new Error('the server did not start');
    const token = readFileSync(t.tokenFile, 'utf8').trim();
    const outcome = await fetchTelemetry(t.url, token, 5000);
    if (outcome.kind !== 'ok') throw new Error(`telemetry: ${outcome.kind} ${outcome.message}`);
    return outcome.snapshot;
  }

  it('starts, serves a chat completion and holds no more host memory than the limit', async () => {
    if (t === undefined) throw new Error('the server did not start');
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: FIXTURE_MODEL_NAME,
        messages: [{ role: 'user', content: 'the host pool holds half the layers' }],
        max_tokens: 8,
        ignore_eos: true,
        temperature: 0,
      }),
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    const json = JSON.parse(body) as { usage: { completion_tokens: number } };
    expect(json.usage.completion_tokens).toBe(8);

    const now = await telemetry();
    expect(now.pools.hostCapacityBytes).toBe(limit);
    expect(now.pools.hostUsedBytes).toBeGreaterThan(0);
    expect(now.pools.hostUsedBytes).toBeLessThanOrEqual(limit);
    // The plan keeps to what the limit holds: interval.min raised to 2, its memory within it.
    expect(now.plan.interval.min).toBe(2);
    expect(now.plan.hostMemoryBytes).toBe(limit);
  });
});

describe('a config.json that understates the stored width', () => {
  it('sizes the host set again for float32 weights and stays within the limit', async () => {
    // The fixture without its dtype: the planner reads 2-byte weights, the checkpoint holds 4.
    const dir = mkdtempSync(join(tmpdir(), 'selectn-no-dtype-'));
    for (const file of readdirSync(FIXTURE_MODEL_DIR)) {
      if (file !== 'config.json') symlinkSync(join(FIXTURE_MODEL_DIR, file), join(dir, file));
    }
    const hf = JSON.parse(readFileSync(join(FIXTURE_MODEL_DIR, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete hf['dtype'];
    delete hf['torch_dtype'];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
    expect((await readModelDescription(dir, 'x')).dtypeBytes).toBe(2);
    const limit = bytesAt(2);
    const setup = await setUpEngine(
      parseServeConfig({
        flags: {
          ...FIXTURE_FLAGS,
          model: dir,
          sloTtftMs: 5000,
          sloTpotMs: 1000,
          deviceMemory: '6MiB',
          hostMemory: String(limit),
        },
        env: {},
        envNames: SERVE_ENV_NAMES,
      }),
      silentLogger(),
      () => undefined,
    );
    try {
      expect(setup.engine.model.info.dtype).toBe('float32');
      expect(setup.engine.hostInterval).toBe(2);
      const pool = setup.engine.runtime.poolStats();
      expect(pool.hostUsedBytes).toBe(limit);
      expect(pool.hostLimitBytes).toBe(limit);
    } finally {
      await setup.adapter.close();
    }
  }, 60_000);
});

describe('a host-memory limit the device pool cannot make up for', () => {
  const flags = (hostMemory: number, deviceMemory: number, extra: Record<string, unknown> = {}) =>
    parseServeConfig({
      flags: {
        ...FIXTURE_FLAGS,
        sloTtftMs: 5000,
        sloTpotMs: 1000,
        deviceMemory: String(deviceMemory),
        hostMemory: String(hostMemory),
        ...extra,
      },
      env: {},
      envNames: SERVE_ENV_NAMES,
    });

  it('refuses in one line, naming the limit and the least host memory that would do', async () => {
    // 1.6 MB holds the loaded model with one layer offloaded but not the two staging slots it
    // then streams through; offloading all four (the only larger nested set) leaves room.
    const limit = bytesAt(4);
    const start = setUpEngine(flags(limit, 1_600_000), silentLogger(), () => undefined);
    await expect(start).rejects.toThrow(HostMemoryTooSmallError);
    const message = await start.then(
      () => 'started',
      (error: unknown) => (error as Error).message,
    );
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`--host-memory ${limit} bytes holds 1 of the 4 decoder layers`);
    expect(message).toContain(`at least ${bytesAt(1)} bytes of host memory are needed`);
  }, 60_000);

  it('refuses an --interval-min whose offload set the limit cannot hold', async () => {
    const start = setUpEngine(
      flags(bytesAt(2), 6 << 20, { intervalMin: 1 }),
      silentLogger(),
      () => undefined,
    );
    await expect(start).rejects.toThrow(
      `interval 1 offloads layers of ${bytesAt(1)} bytes, over --host-memory ${bytesAt(2)} bytes`,
    );
  }, 60_000);

  it('makes `selectn serve` exit 2 with that one line', () => {
    const run = spawnSync(
      node,
      [
        cli,
        'serve',
        '--model',
        FIXTURE_MODEL_DIR,
        '--device',
        'cpu',
        '--threads',
        '1',
        '--slo-ttft-ms',
        '5000',
        '--slo-tpot-ms',
        '1000',
        '--max-num-batched-tokens',
        '256',
        '--device-memory',
        '1600000',
        '--host-memory',
        String(bytesAt(4)),
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`--host-memory ${bytesAt(4)} bytes holds 1 of the 4`);
  }, 90_000);
});
