import { describe, expect, it } from 'vitest';
import {
  CONTROL_ERROR_CODES,
  CONTROL_ERROR_STATUS,
  ControlErrorSchema,
  PlanAckSchema,
  PlanWireSchema,
  SERVE_ENV,
  SERVE_ENV_NAMES,
  TelemetrySnapshotSchema,
  busKey,
  serveEnvTable,
} from '../../src/api/index.ts';
import { samplePlan, sampleTelemetry } from './wire-fixtures.ts';

describe('plan wire format', () => {
  it('accepts a plan and an infinite range', () => {
    expect(PlanWireSchema.parse(samplePlan())).toEqual(samplePlan());
    expect(
      PlanWireSchema.safeParse(samplePlan({ interval: { min: null, max: null } })).success,
    ).toBe(true);
    expect(PlanWireSchema.safeParse(samplePlan({ interval: { min: 3, max: null } })).success).toBe(
      true,
    );
  });

  it('refuses inverted and half-infinite ranges, naming the field', () => {
    const inverted = PlanWireSchema.safeParse(samplePlan({ interval: { min: 9, max: 2 } }));
    expect(inverted.success).toBe(false);
    expect(inverted.error?.issues[0]?.path).toEqual(['interval', 'min']);
    const half = PlanWireSchema.safeParse(samplePlan({ interval: { min: null, max: 4 } }));
    expect(half.error?.issues[0]?.path).toEqual(['interval', 'max']);
    const negative = PlanWireSchema.safeParse(samplePlan({ hostMemoryBytes: -1 }));
    expect(negative.error?.issues[0]?.path).toEqual(['hostMemoryBytes']);
    const version = PlanWireSchema.safeParse({ ...samplePlan(), schemaVersion: 2 });
    expect(version.error?.issues[0]?.path).toEqual(['schemaVersion']);
  });

  it('acknowledges with the plan in force', () => {
    const ack = {
      accepted: true,
      plan: samplePlan({ generation: 3 }),
      appliedAt: '2025-01-01T00:00:01Z',
    };
    expect(PlanAckSchema.parse(ack).plan.generation).toBe(3);
  });

  it('has one HTTP status per error code and an OpenAI-shaped error body', () => {
    for (const code of Object.values(CONTROL_ERROR_CODES)) {
      expect(CONTROL_ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
    }
    const body = {
      error: {
        message: 'interval.min: must be <= max',
        type: 'invalid_request_error',
        code: 'SN_ERR_INVALID_PLAN',
        param: 'interval.min',
      },
    };
    expect(ControlErrorSchema.parse(body)).toEqual(body);
    expect(ControlErrorSchema.safeParse({ error: { ...body.error, code: 'E' } }).success).toBe(
      false,
    );
  });
});

describe('telemetry wire format', () => {
  it('accepts a full snapshot', () => {
    expect(TelemetrySnapshotSchema.parse(sampleTelemetry())).toEqual(sampleTelemetry());
  });

  it('accepts a CPU-backend snapshot without bus identity and without finished requests', () => {
    const t = sampleTelemetry();
    t.hardware = {
      ...t.hardware,
      backend: 'cpu',
      devices: t.hardware.devices.map((d) => ({ ...d, bus: null })),
    };
    t.slo = {
      ...t.slo,
      attainment: null,
      ttftAttainment: null,
      tpotAttainment: null,
      requestsFinished: 0,
      requestsViolated: 0,
    };
    expect(TelemetrySnapshotSchema.safeParse(t).success).toBe(true);
  });

  it('refuses out-of-range values with their path', () => {
    const t = sampleTelemetry();
    const bad = { ...t, slo: { ...t.slo, attainment: 1.5 } };
    const result = TelemetrySnapshotSchema.safeParse(bad);
    expect(result.error?.issues[0]?.path).toEqual(['slo', 'attainment']);
  });

  it('groups devices by shared switch, then root port', () => {
    const bus = sampleTelemetry().hardware.devices[0]?.bus;
    if (!bus) throw new Error('fixture has a bus');
    expect(busKey('n1', bus)).toBe('n1/0000:36:00.0');
    expect(busKey('n1', { ...bus, switchId: null })).toBe('n1/0000:35:00.0');
    expect(busKey('n1', { ...bus, switchId: null, rootPortId: null })).toBe('n1/0000:3b:00.0');
    expect(busKey(null, null)).toBe('?/cpu');
  });
});

describe('serving pod environment', () => {
  it('names each variable SELECTN_ + SCREAMING_SNAKE_CASE of its config key', () => {
    for (const [key, doc] of Object.entries(SERVE_ENV)) {
      const snake = key.replace(/([A-Z])/g, '_$1').toUpperCase();
      expect(doc.name).toBe(`SELECTN_${snake}`);
      expect(SERVE_ENV_NAMES[key as keyof typeof SERVE_ENV_NAMES]).toBe(doc.name);
      expect(doc.description.length).toBeGreaterThan(5);
    }
    expect(SERVE_ENV.sloTtftMs.name).toBe('SELECTN_SLO_TTFT_MS');
    expect(SERVE_ENV.controlTokenFile.name).toBe('SELECTN_CONTROL_TOKEN_FILE');
    expect(serveEnvTable()).toContain('| `SELECTN_MODEL` | always |');
  });
});
