import { describe, expect, it } from 'vitest';
import { SERVE_ENV_NAMES } from '../../src/api/index.ts';
import { ConfigError, ServeConfig, flagOf, parseServeConfig } from '../../src/server/config.ts';

const required = { model: '/m', sloTtftMs: '500', sloTpotMs: '50' };

function parse(flags: Record<string, unknown>, env: Record<string, string> = {}) {
  return parseServeConfig({ flags, env, envNames: SERVE_ENV_NAMES });
}

describe('serve config', () => {
  it('has a config key for every SELECTN_* variable the operator sets', () => {
    const keys = new Set(Object.keys(ServeConfig.shape));
    for (const key of Object.keys(SERVE_ENV_NAMES)) expect(keys, key).toContain(key);
  });

  it('parses flags with defaults and units', () => {
    const c = parse({ ...required, deviceMemory: '40GiB', copyBandwidth: '16GB/s', port: '0' });
    expect(c.deviceMemory).toBe(40 * 2 ** 30);
    expect(c.copyBandwidth).toBe(16e9);
    expect(c.port).toBe(0);
    expect(c.policy).toBe('select-n');
    expect(c.sloPercentile).toBe(99);
  });

  it('reads the same keys from the SELECTN_* environment, flags winning', () => {
    const env = {
      SELECTN_MODEL: '/env-model',
      SELECTN_SLO_TTFT_MS: '800',
      SELECTN_SLO_TPOT_MS: '80',
      SELECTN_INTERVAL_MIN: '2',
      SELECTN_HOST_MEMORY: '1073741824',
    };
    const c = parse({ sloTpotMs: '40' }, env);
    expect(c.model).toBe('/env-model');
    expect(c.sloTtftMs).toBe(800);
    expect(c.sloTpotMs).toBe(40);
    expect(c.intervalMin).toBe(2);
    expect(c.hostMemory).toBe(2 ** 30);
  });

  it('names the flag of a bad value', () => {
    expect(() => parse({ ...required, sloTtftMs: '-3' })).toThrow(/^--slo-ttft-ms: /);
    expect(() => parse({ ...required, deviceMemory: 'lots' })).toThrow(
      /^--device-memory: expected a positive byte size/,
    );
    expect(() => parse({ ...required, policy: 'fastest' })).toThrow(/^--policy: /);
  });

  it('names the environment variable of a bad value and the flag of a missing one', () => {
    const bad = () => parse({ model: '/m', sloTtftMs: '1' }, { SELECTN_SLO_TPOT_MS: 'soon' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/^SELECTN_SLO_TPOT_MS: /);
    expect(() => parse({ model: '/m', sloTtftMs: '1' })).toThrow(
      '--slo-tpot-ms (or SELECTN_SLO_TPOT_MS): is required',
    );
  });

  it("takes the weight dtype (auto: the checkpoint's) and names the flag of a bad one", () => {
    expect(parse(required).dtype).toBe('auto');
    expect(parse(required, { SELECTN_DTYPE: 'bfloat16' }).dtype).toBe('bfloat16');
    expect(() => parse({ ...required, dtype: 'fp8' })).toThrow(/^--dtype: /);
  });

  it('refuses intervalMin above intervalMax', () => {
    expect(() => parse({ ...required, intervalMin: '8', intervalMax: '4' })).toThrow(
      /^--interval-min: /,
    );
  });

  it('maps keys to kebab-case flags', () => {
    expect(flagOf('maxNumBatchedTokens')).toBe('--max-num-batched-tokens');
  });
});
