// `selectn simulate`: replays a seeded request trace through Select-N and the baseline policies
// and prints a table; --plot draws throughput at the SLO against SLO attainment.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  compareCapacity,
  simulatePolicies,
  type PolicyReport,
  type SimulationReport,
} from '../planner/index.ts';
import { capacityTable, promptRange } from './simulate-capacity.ts';
import { UsageError } from './errors.ts';
import {
  gigabytes,
  integerList,
  loadPlannerInputs,
  positiveInteger,
  positiveNumber,
  type ModelGpuFlags,
} from './planner-inputs.ts';
import { simulatePlotSvg } from './plot/simulate-plot.ts';

interface SimulateFlags extends ModelGpuFlags {
  sloTtftMs?: string;
  sloTpotMs?: string;
  trace: string;
  rate: string;
  requests?: string;
  seed: string;
  tokenBudget: string;
  fixedIntervals?: string;
  bandwidthDropAtS?: string;
  bandwidthDropTo?: string;
  includeSmallestRule?: boolean;
  json?: boolean;
  plot?: string;
  capacity?: boolean;
  seeds?: string;
  promptRange?: string;
}

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

function printTable(report: SimulationReport): void {
  const lines: string[] = [];
  lines.push(
    `${report.model} on ${report.hardware}, SLO TTFT ${report.slo.ttftMs} ms / TPOT ${report.slo.tpotMs} ms, ` +
      `${report.trace.arrivals} ${report.trace.ratePerS} req/s, ${report.trace.requests} requests, seed ${report.trace.seed}` +
      (report.bandwidth.change
        ? `, bandwidth ${(report.bandwidth.change.toBytesPerS / 1e9).toFixed(0)} GB/s from ${report.bandwidth.change.atS} s`
        : ''),
  );
  if (report.selectNRange) {
    const r = report.selectNRange;
    lines.push(
      `select-n range: [${r.intervalMin === 0 ? 'inf' : r.intervalMin}, ${r.intervalMax === 0 ? 'inf' : r.intervalMax}]`,
    );
  }
  const header = [
    'policy',
    'tok/s@SLO',
    'attain',
    'TTFT p50',
    'TTFT p99',
    'TPOT p50',
    'TPOT p99',
    'host mem',
    'KV tokens',
    'preempt',
  ];
  const widths = [18, 10, 7, 10, 10, 9, 9, 9, 10, 8];
  const row = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 8) : c.padStart(widths[i] ?? 8)))
      .join(' ');
  lines.push(row(header));
  for (const p of report.policies) lines.push(policyRow(p, row));
  lines.push('');
  lines.push(`tok/s@SLO: ${report.definitions['throughputTokensPerS'] ?? ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function policyRow(p: PolicyReport, row: (cells: string[]) => string): string {
  if (!p.feasible) return `${p.policy.padEnd(18)} not feasible: ${p.infeasibleReason ?? ''}`;
  return row([
    p.policy,
    fmt(p.throughputTokensPerS, 1),
    fmt(p.sloAttainment, 3),
    fmt(p.ttftMs?.p50),
    fmt(p.ttftMs?.p99),
    fmt(p.tpotMs?.p50, 1),
    fmt(p.tpotMs?.p99, 1),
    gigabytes(p.hostMemoryBytes).replace(' GB', 'G'),
    String(p.kvCapacityTokens),
    String(p.preemptions ?? 0),
  ]);
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'replay a request trace through select-n and the baseline policies and compare them',
    )
    .option('--model <name>', 'built-in model name (e.g. llama-13b)')
    .option('--gpu <name>', 'built-in GPU name (e.g. a100-40gb)')
    .option('--model-file <file>', 'model description (YAML/JSON) or Hugging Face config.json')
    .option('--gpu-file <file>', 'GPU description (YAML/JSON)')
    .option('--profile <file>', 'measured layer profile; default analytic roofline')
    .option('--slo-ttft-ms <ms>', 'time to first token target, ms')
    .option('--slo-tpot-ms <ms>', 'time per output token target, ms')
    .option('--trace <kind>', 'arrivals: poisson or bursty', 'poisson')
    .option('--rate <r>', 'mean arrival rate, requests/s', '2')
    .option('--requests <k>', 'number of requests (per seed with --capacity; default 300, 600)')
    .option('--seed <s>', 'trace seed', '1')
    .option('--token-budget <n>', 'tokens per iteration (chunked prefill budget)', '512')
    .option(
      '--fixed-intervals <list>',
      'K of the fixed-n-K policies, comma-separated',
      '1,2,3,4,5,8,10,13,20',
    )
    .option('--bandwidth-drop-at-s <t>', 'time of a drop in host-to-device bandwidth, s')
    .option('--bandwidth-drop-to <bps>', 'bandwidth after the drop, bytes/s')
    .option(
      '--include-smallest-rule',
      'also run select-n-smallest (the literal "smallest N meeting the SLO" rule)',
    )
    .option(
      '--capacity',
      "search each policy's capacity at the SLO (highest rate with >= 99% / 90% meeting it) instead of replaying one rate",
    )
    .option('--seeds <list>', 'trace seeds of the capacity search, comma-separated', '1,2,3')
    .option(
      '--prompt-range <min-max>',
      'prompt lengths spread over MIN-MAX tokens (default: chat mix)',
    )
    .option('--json', 'print the report as JSON')
    .option('--plot <file.svg>', 'write throughput at the SLO against SLO attainment as SVG')
    .action((flags: SimulateFlags) => {
      const inputs = loadPlannerInputs(flags);
      if (flags.trace !== 'poisson' && flags.trace !== 'bursty') {
        throw new UsageError(`--trace: must be poisson or bursty, got "${flags.trace}"`);
      }
      const slo = {
        ttftMs: positiveNumber('--slo-ttft-ms', flags.sloTtftMs),
        tpotMs: positiveNumber('--slo-tpot-ms', flags.sloTpotMs),
      };
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed))
        throw new UsageError(`--seed: must be an integer, got "${flags.seed}"`);
      if ((flags.bandwidthDropAtS === undefined) !== (flags.bandwidthDropTo === undefined)) {
        throw new UsageError(
          '--bandwidth-drop-to: give both --bandwidth-drop-at-s and --bandwidth-drop-to',
        );
      }
      const tokenBudget = positiveInteger('--token-budget', flags.tokenBudget);
      const prompt =
        flags.promptRange !== undefined
          ? promptRange('--prompt-range', flags.promptRange)
          : undefined;
      if (flags.capacity === true) {
        if (flags.plot !== undefined) throw new UsageError('--plot: not available with --capacity');
        const capacity = compareCapacity({
          ...inputs,
          slo,
          seeds: integerList('--seeds', flags.seeds ?? '1,2,3'),
          requests: positiveInteger('--requests', flags.requests ?? '600'),
          tokenBudget,
          ...(prompt ? { prompt } : {}),
        });
        process.stdout.write(
          flags.json ? JSON.stringify(capacity, null, 2) + '\n' : capacityTable(capacity),
        );
        return;
      }
      const report = simulatePolicies({
        ...inputs,
        slo,
        trace: {
          arrivals: flags.trace,
          ratePerS: positiveNumber('--rate', flags.rate),
          requests: positiveInteger('--requests', flags.requests ?? '300'),
          seed,
          ...(prompt ? { prompt } : {}),
        },
        scheduler: { tokenBudget },
        fixedIntervals:
          flags.fixedIntervals !== undefined
            ? integerList('--fixed-intervals', flags.fixedIntervals)
            : undefined,
        includeSmallestIntervalRule: flags.includeSmallestRule === true,
        ...(flags.bandwidthDropAtS !== undefined && flags.bandwidthDropTo !== undefined
          ? {
              bandwidthChange: {
                atS: positiveNumber('--bandwidth-drop-at-s', flags.bandwidthDropAtS),
                toBytesPerS: positiveNumber('--bandwidth-drop-to', flags.bandwidthDropTo),
              },
            }
          : {}),
      });
      if (flags.plot !== undefined) writeFileSync(flags.plot, simulatePlotSvg(report));
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else printTable(report);
    });
}
