// Prometheus metrics of the serving pod (prom-client, one registry per server so that tests can
// run several). Request latencies and counters are fed by the engine loop; pool, bandwidth and
// queue gauges are read from the runtime at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver, FinishedRecord, IterationRecord } from './engine-loop.ts';
import type { RuntimeStatus } from './engine-port.ts';
import { requestSlo, type ServingStats, type SloTargets } from './stats.ts';

const LATENCY_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 40,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256];

/** What metrics read at scrape time. */
export interface MetricsSource {
  status(): RuntimeStatus | undefined;
  waiting(): number;
  running(): number;
  stats(): ServingStats | undefined;
}

export class ServerMetrics implements EngineObserver {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly rejected: Counter<'code'>;
  private readonly ttft: Histogram;
  private readonly tpot: Histogram;
  private readonly e2e: Histogram;
  private readonly iteration: Histogram;
  private readonly promptTokens: Counter;
  private readonly generationTokens: Counter;
  private readonly finished: Counter<'reason'>;
  private readonly sloMet: Counter<'target'>;
  private readonly batchSize: Histogram;
  private readonly preemptions: Counter;
  private readonly intervalIterations: Counter<'interval'>;
  private readonly stallSeconds: Counter;
  private lastPreemptions = 0;
  private slo: SloTargets;

  constructor(slo: SloTargets, source: MetricsSource, labels: Record<string, string> = {}) {
    this.slo = slo;
    const r = this.registry;
    r.setDefaultLabels(labels);
    collectDefaultMetrics({ register: r, prefix: 'selectn_process_' });
    const registers = [r];
    this.httpRequests = new Counter({
      name: 'selectn_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers,
    });
    this.rejected = new Counter({
      name: 'selectn_requests_rejected_total',
      help: 'Requests refused before admission, by SN_ERR_* code',
      labelNames: ['code'],
      registers,
    });
    this.ttft = new Histogram({
      name: 'selectn_time_to_first_token_seconds',
      help: 'Time from arrival to the first generated token',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.tpot = new Histogram({
      name: 'selectn_time_per_output_token_seconds',
      help: 'Mean time per output token after the first, per request',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.e2e = new Histogram({
      name: 'selectn_e2e_request_latency_seconds',
      help: 'Time from arrival to the last token',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.iteration = new Histogram({
      name: 'selectn_iteration_seconds',
      help: 'Wall time of one engine iteration',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.promptTokens = new Counter({
      name: 'selectn_prompt_tokens_total',
      help: 'Prompt tokens of finished requests',
      registers,
    });
    this.generationTokens = new Counter({
      name: 'selectn_generation_tokens_total',
      help: 'Generated tokens',
      registers,
    });
    this.finished = new Counter({
      name: 'selectn_requests_finished_total',
      help: 'Finished requests by finish reason',
      labelNames: ['reason'],
      registers,
    });
    this.sloMet = new Counter({
      name: 'selectn_requests_slo_met_total',
      help: 'Finished requests (client aborts excluded) that met the target: ttft, tpot or both',
      labelNames: ['target'],
      registers,
    });
    new Counter({
      name: 'selectn_requests_slo_counted_total',
      help: 'Finished requests that count toward SLO attainment (client aborts excluded)',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'selectn_batch_size',
      help: 'Sequences per iteration',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.preemptions = new Counter({
      name: 'selectn_preemptions_total',
      help: 'Requests preempted (KV blocks freed, recomputed later)',
      registers,
    });
    this.intervalIterations = new Counter({
      name: 'selectn_interval_iterations_total',
      help: 'Iterations run at each offload interval N (histogram of N; "none": no offloading)',
      labelNames: ['interval'],
      registers,
    });
    this.stallSeconds = new Counter({
      name: 'selectn_stall_seconds_total',
      help: 'Compute time spent waiting for offloaded weights',
      registers,
    });
    const gauge = (name: string, help: string, read: () => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    };
    gauge('selectn_queue_depth', 'Requests waiting for admission', () => source.waiting());
    gauge('selectn_running_requests', 'Requests in the running batch', () => source.running());
    gauge(
      'selectn_interval',
      'Offload interval N in force (0: nothing offloaded)',
      () => source.status()?.interval,
    );
    gauge(
      'selectn_copy_bandwidth_bytes_per_second',
      'Achieved host-to-device copy bandwidth (EWMA)',
      () => source.status()?.copyBandwidthBytesPerS,
    );
    gauge(
      'selectn_copy_bandwidth_p10_bytes_per_second',
      'Achieved host-to-device copy bandwidth, 10th percentile over the window',
      () => source.status()?.copyBandwidthP10BytesPerS,
    );
    gauge('selectn_copy_budget_bytes_per_second', 'Pacing budget of copies (0: unpaced)', () => {
      const b = source.status()?.bandwidthBudgetBytesPerS;
      return b === undefined ? undefined : Number.isFinite(b) ? b : 0;
    });
    gauge('selectn_device_pool_bytes', 'Device pool size', () => source.status()?.deviceBytesTotal);
    gauge(
      'selectn_device_pool_used_bytes',
      'Device pool bytes in use',
      () => source.status()?.deviceBytesUsed,
    );
    gauge(
      'selectn_host_pool_bytes',
      'Pinned host pool size',
      () => source.status()?.hostBytesTotal,
    );
    gauge(
      'selectn_host_pool_used_bytes',
      'Pinned host pool bytes in use',
      () => source.status()?.hostBytesUsed,
    );
    gauge('selectn_kv_blocks', 'KV blocks in the pool', () => source.status()?.kvBlocksTotal);
    gauge('selectn_kv_blocks_free', 'KV blocks free', () => source.status()?.kvBlocksFree);
    gauge(
      'selectn_slo_attainment',
      'Fraction of requests finished in the window that met both SLO targets',
      () => source.stats()?.sloSummary().attainment ?? undefined,
    );
  }

  setSlo(slo: SloTargets): void {
    this.slo = slo;
  }

  onIteration(record: IterationRecord): void {
    this.iteration.observe(record.result.elapsedMs / 1000);
    this.batchSize.observe(record.output.seqs.length);
    const interval = record.result.interval;
    this.intervalIterations.inc({ interval: interval === 0 ? 'none' : String(interval) });
    this.stallSeconds.inc(record.result.stallMs / 1000);
    this.generationTokens.inc(record.result.sampled.length);
    if (record.preemptionsTotal > this.lastPreemptions) {
      this.preemptions.inc(record.preemptionsTotal - this.lastPreemptions);
      this.lastPreemptions = record.preemptionsTotal;
    }
  }

  onFinished(record: FinishedRecord): void {
    this.finished.inc({ reason: record.reason });
    this.promptTokens.inc(record.promptTokens);
    const slo = requestSlo(record, this.slo);
    if (slo.ttftMs !== undefined) this.ttft.observe(slo.ttftMs / 1000);
    if (slo.tpotMs !== undefined && record.completionTokens > 1)
      this.tpot.observe(slo.tpotMs / 1000);
    if (record.firstTokenMs !== undefined) {
      this.e2e.observe((record.finishedMs - record.arrivalMs) / 1000);
    }
    if (slo.counted) {
      const counted = this.registry.getSingleMetric('selectn_requests_slo_counted_total');
      if (counted instanceof Counter) counted.inc();
      if (slo.ttftMet) this.sloMet.inc({ target: 'ttft' });
      if (slo.tpotMet) this.sloMet.inc({ target: 'tpot' });
      if (slo.ttftMet && slo.tpotMet) this.sloMet.inc({ target: 'both' });
    }
  }
}
