// Builders of telemetry snapshots as a serving pod sends them (valid against the wire schema),
// and a small HTTP "pod" that answers GET /v1/selectn/telemetry with whatever a test sets.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  PlanWireSchema,
  SERVE_PATHS,
  TelemetrySnapshotSchema,
  WIRE_SCHEMA_VERSION,
  type PlanWire,
  type TelemetrySnapshot,
} from '../../src/api/index.ts';

export interface SnapshotFigures {
  finished?: number;
  violated?: number;
  tokensPerS?: number;
  waiting?: number;
  interval?: number | null;
  intervalMean?: number | null;
  offloadIterations?: number;
  hostUsedBytes?: number;
  bandwidthP50?: number | null;
  ttftP99?: number | null;
  tpotP99?: number | null;
  node?: string;
  pciBusId?: string | null;
  switchId?: string | null;
  /** Copy demand, bytes/s. */
  demand?: number;
  observedAt?: string;
}

const noSamples = { p50: null, p90: null, p99: null, mean: null, samples: 0 };

export function snapshot(f: SnapshotFigures = {}): TelemetrySnapshot {
  const finished = f.finished ?? 10;
  const violated = f.violated ?? 0;
  const interval = f.interval === undefined ? 4 : f.interval;
  const iterations = f.offloadIterations ?? 100;
  const s: TelemetrySnapshot = {
    schemaVersion: WIRE_SCHEMA_VERSION,
    pod: { name: 'p', namespace: 'ns' },
    observedAt: f.observedAt ?? '2025-01-01T00:00:00.000Z',
    windowSeconds: 60,
    uptimeSeconds: 100,
    ready: true,
    model: { name: 'm', numLayers: 8, layerBytes: 1000, dtype: 'float32' },
    hardware: {
      backend: 'cpu',
      nodeName: f.node ?? 'node-0',
      devices: [
        {
          index: 0,
          name: 'cpu',
          uuid: null,
          memoryTotalBytes: 1 << 20,
          memoryUsedBytes: 1 << 19,
          computeUtilization: 0.5,
          bus:
            f.pciBusId === undefined || f.pciBusId === null
              ? null
              : {
                  pciBusId: f.pciBusId,
                  switchId: f.switchId ?? null,
                  rootPortId: null,
                  numaNode: null,
                  linkGeneration: null,
                  linkWidth: null,
                },
        },
      ],
      hostMemoryTotalBytes: 1 << 30,
      hostMemoryAvailableBytes: 1 << 29,
      computeSlowdown: 1,
    },
    pools: {
      gpuTotalBytes: 1 << 20,
      gpuResidentWeightsBytes: 1 << 18,
      gpuStagingBytes: 1 << 16,
      gpuKvBytes: 1 << 18,
      gpuFreeBytes: 1 << 17,
      kvBlocksTotal: 64,
      kvBlocksUsed: 8,
      hostCapacityBytes: f.hostUsedBytes ?? 4000,
      hostUsedBytes: f.hostUsedBytes ?? 4000,
      offloadedLayers: 2,
      residentLayers: 6,
    },
    bandwidth: {
      h2dBytesPerSecond: {
        ...noSamples,
        p50: f.bandwidthP50 === undefined ? 1e9 : f.bandwidthP50,
        samples: 5,
      },
      demandBytesPerSecond: f.demand ?? 5e8,
      budgetBytesPerSecond: null,
      copiedBytesTotal: 1e6,
      stallMsTotal: 0,
      stallMs: noSamples,
    },
    interval: {
      current: interval,
      mean: f.intervalMean === undefined ? interval : f.intervalMean,
      min: interval,
      max: interval,
      histogram: [{ interval, iterations }],
      changes: 0,
      iterations,
    },
    slo: {
      ttftMs: 1000,
      tpotMs: 100,
      percentile: 99,
      attainment: finished === 0 ? null : (finished - violated) / finished,
      ttftAttainment: null,
      tpotAttainment: null,
      ttft: { ...noSamples, p99: f.ttftP99 === undefined ? 200 : f.ttftP99 },
      tpot: { ...noSamples, p99: f.tpotP99 === undefined ? 20 : f.tpotP99 },
      requestsFinished: finished,
      requestsViolated: violated,
    },
    throughput: {
      generatedTokensPerSecond: f.tokensPerS ?? 100,
      promptTokensPerSecond: 50,
      requestsPerSecond: 1,
      iterationsPerSecond: 10,
      batchSize: noSamples,
      waiting: f.waiting ?? 0,
      running: 1,
      rejectedTotal: 0,
      preemptionsTotal: 0,
    },
    plan: {
      schemaVersion: WIRE_SCHEMA_VERSION,
      generation: 0,
      interval: { min: 2, max: 8 },
      hostMemoryBytes: 4000,
      bandwidthBudgetBytesPerSecond: null,
      layerSelection: 'nested',
      basis: 'planner: test',
      issuedAt: '2025-01-01T00:00:00.000Z',
    },
  };
  // A builder that made an invalid snapshot would make every test built on it meaningless.
  return TelemetrySnapshotSchema.parse(s);
}

/** What a fake pod answers: a snapshot, a raw body, or nothing (never answers). */
export type PodAnswer =
  | { kind: 'snapshot'; snapshot: TelemetrySnapshot }
  | { kind: 'raw'; status: number; body: string }
  | { kind: 'hang' };

/** How a fake pod answers PUT /v1/selectn/plan. */
export type PlanReply = { kind: 'accept' } | { kind: 'refuse'; status: number; code: string };

/**
 * An HTTP server on `host` that plays a serving pod's telemetry and plan endpoints. An accepted
 * plan is put in force: later snapshots carry it, as the real server's do.
 */
export class TelemetryPod {
  answer: PodAnswer = { kind: 'snapshot', snapshot: snapshot() };
  planReply: PlanReply = { kind: 'accept' };
  /** Plans received, in order. */
  readonly puts: PlanWire[] = [];
  token: string;
  reads = 0;
  private readonly server: Server;

  constructor(token: string) {
    this.token = token;
    this.server = createServer((req, res) => {
      if (req.url === SERVE_PATHS.plan && req.method === 'PUT') {
        this.plan(req, res);
        return;
      }
      if (req.url !== SERVE_PATHS.telemetry) {
        res.writeHead(404).end();
        return;
      }
      this.reads++;
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const a = this.answer;
      if (a.kind === 'hang') return;
      if (a.kind === 'raw') {
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a.snapshot));
    });
  }

  private plan(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const plan = PlanWireSchema.parse(JSON.parse(body));
      this.puts.push(plan);
      const reply = this.planReply;
      if (reply.kind === 'refuse') {
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              message: `refused by the test pod (${reply.code})`,
              type: 'invalid_request_error',
              code: reply.code,
              param: null,
            },
          }),
        );
        return;
      }
      if (this.answer.kind === 'snapshot')
        this.answer = { kind: 'snapshot', snapshot: { ...this.answer.snapshot, plan } };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: true, plan, appliedAt: new Date().toISOString() }));
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
