// Plot of `selectn plan --plot`: predicted iteration time against the interval N for several
// batch sizes, with the TPOT line and the planned range.
import {
  formatInterval,
  NO_OFFLOAD,
  type IntervalPlan,
  type LatencyModel,
} from '../../planner/index.ts';
import { linearScale, logScale, PALETTE, SvgChart } from './svg.ts';

export function planPlotSvg(plan: IntervalPlan, latency: LatencyModel): string {
  const L = latency.model.numLayers;
  const bandwidth = plan.settings.bandwidthBytesPerS.max;
  const context = Math.max(...plan.settings.workload.contextLengths);
  const batches = plan.settings.workload.batchSizes;
  // x position L + 1 stands for N = inf (no offloading).
  const xs = Array.from({ length: L + 1 }, (_, i) => i + 1);
  const intervalAt = (x: number): number => (x === L + 1 ? NO_OFFLOAD : x);
  const series = batches.map((b) =>
    xs.map((x): [number, number] => [
      x,
      latency.predict(
        intervalAt(x),
        { sequences: b, newTokens: b, contextTokens: b * context },
        bandwidth,
      ).iterationMs,
    ]),
  );
  const all = series
    .flat()
    .map(([, ms]) => ms)
    .concat(plan.settings.slo.tpotMs);
  const frame = {
    width: 860,
    height: 480,
    margin: { top: 40, right: 190, bottom: 50, left: 70 },
    title: `${plan.model} on ${plan.hardware}: predicted decode iteration time vs interval N`,
    xLabel: `interval N (about 1 layer in N offloaded; inf = none) at ${(bandwidth / 1e9).toFixed(0)} GB/s, context ${context}`,
    yLabel: 'predicted iteration time (ms, log scale)',
  };
  const x = linearScale([1, L + 1], [frame.margin.left, frame.width - frame.margin.right]);
  x.ticks = [...new Set([1, ...x.ticks.filter((t) => t >= 1 && t <= L), L + 1])];
  const y = logScale(
    [Math.min(...all) * 0.8, Math.max(...all) * 1.2],
    [frame.height - frame.margin.bottom, frame.margin.top],
  );
  const chart = new SvgChart(frame, x, y, (t) => (t === L + 1 ? 'inf' : String(t)));
  const toX = (n: number): number => (n === NO_OFFLOAD ? L + 1 : n);
  chart.band(
    toX(plan.intervalMin),
    toX(plan.intervalMax),
    '#2ca02c',
    `range [${formatInterval(plan.intervalMin)}, ${formatInterval(plan.intervalMax)}]`,
  );
  series.forEach((points, i) => {
    chart.line(points, PALETTE[i % PALETTE.length] ?? '#000');
  });
  chart.line(
    [
      [1, plan.settings.slo.tpotMs],
      [L + 1, plan.settings.slo.tpotMs],
    ],
    '#000',
    { dashed: true, width: 1.5 },
  );
  chart.legend([
    ...batches.map((b, i) => ({
      label: `batch ${b}`,
      color: PALETTE[i % PALETTE.length] ?? '#000',
    })),
    { label: `TPOT SLO ${plan.settings.slo.tpotMs} ms`, color: '#000', dashed: true },
  ]);
  return chart.toString();
}
