// Plot of `selectn simulate --plot`: throughput at the SLO against SLO attainment, one point per policy.
import type { SimulationReport } from '../../planner/index.ts';
import { linearScale, PALETTE, SvgChart } from './svg.ts';

export function simulatePlotSvg(report: SimulationReport): string {
  const feasible = report.policies.filter((p) => p.feasible);
  const maxThroughput = Math.max(1, ...feasible.map((p) => p.throughputTokensPerS ?? 0));
  const frame = {
    width: 860,
    height: 500,
    margin: { top: 40, right: 200, bottom: 50, left: 80 },
    title: `${report.model} on ${report.hardware}: throughput at the SLO vs SLO attainment (${report.trace.arrivals}, ${report.trace.ratePerS} req/s)`,
    xLabel: `SLO attainment (TTFT <= ${report.slo.ttftMs} ms and TPOT <= ${report.slo.tpotMs} ms)`,
    yLabel: 'throughput at the SLO (output tokens/s)',
  };
  const x = linearScale([0, 1], [frame.margin.left, frame.width - frame.margin.right]);
  const y = linearScale(
    [0, maxThroughput * 1.1],
    [frame.height - frame.margin.bottom, frame.margin.top],
  );
  const chart = new SvgChart(frame, x, y);
  const entries = feasible.map((p, i) => ({
    label: p.policy,
    color: PALETTE[i % PALETTE.length] ?? '#000',
  }));
  feasible.forEach((p, i) => {
    chart.point(
      p.sloAttainment ?? 0,
      p.throughputTokensPerS ?? 0,
      entries[i]?.color ?? '#000',
      p.policy,
    );
  });
  chart.legend(entries);
  const missing = report.policies.filter((p) => !p.feasible).map((p) => p.policy);
  if (missing.length > 0) {
    chart.text(frame.margin.left, 35, `not feasible (weights do not fit): ${missing.join(', ')}`, {
      size: 10,
      color: '#666',
    });
  }
  return chart.toString();
}
