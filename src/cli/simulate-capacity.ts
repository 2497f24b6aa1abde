// `selectn simulate --capacity`: Select-N's and every baseline's capacity at the SLO (the highest
// arrival rate at which >= 99% / >= 90% of requests meet it), each baseline in its real form
// (admission by free KV blocks) and with Select-N's SLO-aware admission.
import type { CapacityPolicyReport, CapacityReport, LengthDistribution } from '../planner/index.ts';
import { UsageError } from './errors.ts';

/** "512-1536": prompts spread over that range (log-normal around its middle, clamped). */
export function promptRange(flag: string, value: string): LengthDistribution {
  const match = /^(\d+)-(\d+)$/.exec(value.trim());
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (!match || !(min >= 1 && max >= min)) {
    throw new UsageError(`${flag}: expected MIN-MAX tokens with 1 <= MIN <= MAX, got "${value}"`);
  }
  return { median: (min + max) / 2, sigma: 0.35, min, max };
}

const fmt = (v: number, digits: number): string => v.toFixed(digits);

function row(p: CapacityPolicyReport): string {
  const name = p.policy.padEnd(34);
  if (!p.feasible) return `${name} not feasible: ${p.infeasibleReason ?? ''}`;
  const limit = p.atSearchLimit ? '+' : ' ';
  return [
    name,
    `${fmt(p.capacityRps, 3)}${limit}`.padStart(10),
    fmt(p.capacity90Rps, 3).padStart(9),
    fmt(p.throughputTokensPerS, 1).padStart(9),
    fmt(p.sloAttainment, 3).padStart(7),
    String(p.refused).padStart(7),
    `${fmt(p.hostMemoryBytes / 1e9, 1)}G`.padStart(8),
    String(p.kvCapacityTokens).padStart(9),
  ].join(' ');
}

export function capacityTable(report: CapacityReport): string {
  const lines = [
    `${report.model} on ${report.gpu}, SLO TTFT ${report.slo.ttftMs} ms / mean TPOT ${report.slo.tpotMs} ms, ` +
      `prompts ${report.prompt.min}-${report.prompt.max} (median ${report.prompt.median}), ` +
      `${report.seeds.length} seeds x ${report.requestsPerSeed} requests`,
  ];
  if (report.selectNRange) {
    const r = report.selectNRange;
    lines.push(
      `select-n range: [${r.intervalMin === 0 ? 'inf' : r.intervalMin}, ${r.intervalMax === 0 ? 'inf' : r.intervalMax}]`,
    );
  }
  lines.push(
    [
      'policy'.padEnd(34),
      'cap@99%'.padStart(10),
      'cap@90%'.padStart(9),
      'tok/s'.padStart(9),
      'attain'.padStart(7),
      'refused'.padStart(7),
      'host'.padStart(8),
      'KV tok'.padStart(9),
    ].join(' '),
  );
  for (const p of report.policies) lines.push(row(p));
  lines.push('');
  lines.push(`cap@99%: ${report.definitions['capacityRps'] ?? ''} (+: at the search limit)`);
  lines.push(`SLO: ${report.definitions['slo'] ?? ''}`);
  return lines.join('\n') + '\n';
}
