// Prints the bench/README.md table from simulate-*.json results: Select-N against the best of
// the existing offloading mechanisms, against no-offload and against the best fixed interval.
// Usage: node_modules/.bin/node bench/planner/summarize-simulations.ts bench/results/simulate-*.json
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { PolicyReport, SimulationReport } from '../../src/planner/index.ts';

const MECHANISMS = ['full-streaming', 'static-placement', 'zero-copy'];

const goodput = (p: PolicyReport | undefined): number =>
  p?.feasible ? (p.throughputTokensPerS ?? 0) : 0;
const best = (ps: PolicyReport[]): PolicyReport | undefined =>
  ps
    .filter((p) => p.feasible)
    .reduce<PolicyReport | undefined>((a, b) => (goodput(b) > goodput(a) ? b : a), undefined);
const ratio = (a: number, b: number): string =>
  b > 0 ? `${(a / b).toFixed(2)}x` : a > 0 ? 'inf (baseline 0)' : '-';
const cell = (p: PolicyReport | undefined): string =>
  p?.feasible
    ? `${p.policy} ${goodput(p).toFixed(1)} (${((p.sloAttainment ?? 0) * 100).toFixed(0)}%)`
    : 'not feasible';

console.log(
  '| scenario | select-n tok/s (attain.) | best mechanism | vs best mechanism | no-offload | vs no-offload | best fixed-n-K | vs best fixed |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, 'utf8')) as SimulationReport;
  const byName = (n: string): PolicyReport | undefined =>
    report.policies.find((p) => p.policy === n);
  const selectN = byName('select-n');
  const mechanism = best(report.policies.filter((p) => MECHANISMS.includes(p.policy)));
  const noOffload = byName('no-offload');
  const fixed = best(report.policies.filter((p) => p.policy.startsWith('fixed-n-')));
  const s = goodput(selectN);
  console.log(
    `| ${basename(file, '.json').replace('simulate-', '')} | ${cell(selectN)} | ${cell(mechanism)} | ${ratio(s, goodput(mechanism))} | ${cell(noOffload)} | ${noOffload?.feasible ? ratio(s, goodput(noOffload)) : '-'} | ${cell(fixed)} | ${ratio(s, goodput(fixed))} |`,
  );
}
