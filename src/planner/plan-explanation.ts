// Sentences that explain a plan or why none exists.
import type { HardwareDescription } from './hardware.ts';
import { decoderLayerBytes, nonLayerBytes, type ModelDescription } from './model.ts';
import { formatInterval, NO_OFFLOAD, offloadedLayerCount } from './offload-sets.ts';
import type { IntervalPlan, PlanCondition } from './offline-range.ts';

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;
const gbps = (bytesPerS: number): string => `${(bytesPerS / 1e9).toFixed(0)} GB/s`;

export function describeCondition(
  c: Pick<PlanCondition, 'kind' | 'batchSize' | 'contextTokens' | 'bandwidthBytesPerS'>,
): string {
  const at = `at ${gbps(c.bandwidthBytesPerS)}`;
  if (c.kind === 'prefill') return `prefill of ${c.contextTokens} tokens ${at}`;
  if (c.kind === 'mixed')
    return `${c.batchSize} decodes at context ${c.contextTokens} plus a prefill chunk ${at}`;
  return `decode of batch ${c.batchSize} at context ${c.contextTokens} ${at}`;
}

function describeInterval(n: number, L: number): string {
  if (n === NO_OFFLOAD) return 'N = inf (nothing offloaded)';
  return `N = ${n} (${offloadedLayerCount(n, L)} of ${L} layers offloaded)`;
}

export function explainPlan(
  plan: IntervalPlan,
  model: ModelDescription,
  hardware: HardwareDescription,
  fitting: readonly number[],
): string[] {
  const L = model.numLayers;
  const lines: string[] = [];
  const weights = nonLayerBytes(model) + L * decoderLayerBytes(model);
  const leastOffloadThatFits = fitting[fitting.length - 1] ?? NO_OFFLOAD;
  if (leastOffloadThatFits === NO_OFFLOAD) {
    lines.push(
      `${model.name} weights (${gb(weights)}) fit in ${hardware.name} without offloading.`,
    );
  } else {
    lines.push(
      `${model.name} weights (${gb(weights)}) do not fit in ${hardware.name} with room for KV cache; ` +
        `at least ${describeInterval(leastOffloadThatFits, L)} is needed.`,
    );
  }
  const feasible = plan.conditions.filter((c) => c.smallestInterval !== null);
  const atMin = feasible.find(
    (c) => c.kind !== 'prefill' && c.smallestInterval === plan.intervalMin,
  );
  const atMax = feasible.find((c) => c.largestInterval === plan.intervalMax);
  if (atMin) {
    lines.push(
      `N_min: ${describeInterval(plan.intervalMin, L)}, the most offloading a batch of decodes can use: ` +
        `${describeCondition(atMin)} takes ${atMin.predictedMs.toFixed(1)} ms of its ${atMin.targetMs} ms there.`,
    );
  }
  if (atMax) {
    lines.push(
      `N_max: ${describeInterval(plan.intervalMax, L)}, the least offloading any condition runs at: ` +
        `${describeCondition(atMax)} holds its ${atMax.kvTokensNeeded} KV tokens and meets ${atMax.targetMs} ms there.`,
    );
  }
  lines.push(
    'Online, each iteration runs at the least offloading in the range that holds the KV cache in demand ' +
      'and meets the SLO; when none holds it, at the most offloading that meets the SLO.',
  );
  lines.push(
    `Host memory per replica: ${gb(plan.hostMemoryBytes)} pinned, the ${offloadedLayerCount(plan.intervalMin, L)} layers of the N_min set ` +
      `(${gb(decoderLayerBytes(model))} each); every interval in the range offloads a subset of them.`,
  );
  lines.push(
    `KV cache: ${plan.kvCapacityTokensAtMin} tokens at N_min, ${plan.kvCapacityTokensAtMax} tokens at N_max.`,
  );
  const excluded = plan.conditions.filter((c) => c.infeasibleReason !== undefined);
  if (excluded.length > 0) {
    lines.push(
      `${excluded.length} of ${plan.conditions.length} conditions cannot be served within the SLO and are left out of the range:`,
    );
    for (const c of excluded.slice(0, 5)) lines.push(`  - ${c.infeasibleReason ?? ''}`);
    if (excluded.length > 5) lines.push(`  - ... and ${excluded.length - 5} more (see --json)`);
  }
  if (
    plan.intervalMin !== NO_OFFLOAD &&
    formatInterval(plan.intervalMin) === formatInterval(plan.intervalMax)
  ) {
    lines.push('The range is a single interval: the online stage has nothing to choose.');
  }
  return lines;
}

export function explainUnmeetable(
  conditions: readonly PlanCondition[],
  model: ModelDescription,
  hardware: HardwareDescription,
  fitting: readonly number[],
): string {
  const leastOffload = fitting[fitting.length - 1] ?? NO_OFFLOAD;
  const how =
    leastOffload === NO_OFFLOAD
      ? 'even with no offloading'
      : `even with the least offloading that fits (${describeInterval(leastOffload, model.numLayers)})`;
  // Conditions are listed lightest first within each kind.
  const decode = conditions.find((c) => c.kind === 'decode');
  const prefill = conditions.find((c) => c.kind === 'prefill');
  const parts: string[] = [];
  if (decode && decode.smallestInterval === null) {
    parts.push(
      `TPOT ${decode.targetMs} ms: ${describeCondition(decode)} takes ${decode.predictedMs.toFixed(1)} ms`,
    );
  }
  if (prefill && prefill.smallestInterval === null) {
    parts.push(
      `TTFT ${prefill.targetMs} ms: ${describeCondition(prefill)} takes ${prefill.predictedMs.toFixed(1)} ms`,
    );
  }
  const first = conditions.find((c) => c.infeasibleReason !== undefined);
  const detail =
    parts.length > 0 ? parts.join('; ') : (first?.infeasibleReason ?? 'no condition is feasible');
  return `the SLO cannot be met for ${model.name} on ${hardware.name} ${how} at the lightest load: ${detail}`;
}
