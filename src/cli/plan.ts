// `selectn plan`: the interval range [N_min, N_max], host memory per replica and KV capacity for a
// model, a GPU and an SLO, with the reasons; --plot draws iteration time against N.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  PlannerError,
  formatInterval,
  latencyModel,
  planIntervalRange,
  type IntervalPlan,
  type OffloadPattern,
} from '../planner/index.ts';
import { UsageError } from './errors.ts';
import {
  gigabytes,
  integerList,
  loadPlannerInputs,
  positiveInteger,
  positiveNumber,
  type ModelGpuFlags,
} from './planner-inputs.ts';
import { planPlotSvg } from './plot/plan-plot.ts';

interface PlanFlags extends ModelGpuFlags {
  sloTtftMs?: string;
  sloTpotMs?: string;
  batchSizes: string;
  contextLengths: string;
  prefillChunkTokens?: string;
  stagingSlots: string;
  pattern: string;
  json?: boolean;
  plot?: string;
}

function printPlan(plan: IntervalPlan): void {
  const out: string[] = [];
  out.push(`model ${plan.model} on ${plan.hardware} (profile: ${plan.profileSource})`);
  out.push(`SLO: TTFT ${plan.settings.slo.ttftMs} ms, TPOT ${plan.settings.slo.tpotMs} ms`);
  out.push(
    `interval range: [${formatInterval(plan.intervalMin)}, ${formatInterval(plan.intervalMax)}]`,
  );
  out.push(
    `host memory per replica: ${gigabytes(plan.hostMemoryBytes)} (${plan.offloadedLayersAtMin.length} layers: ${plan.offloadedLayersAtMin.join(' ')})`,
  );
  out.push(
    `KV capacity: ${plan.kvCapacityTokensAtMin} tokens at N_min, ${plan.kvCapacityTokensAtMax} tokens at N_max`,
  );
  out.push('');
  out.push('why:');
  for (const line of plan.explanation) out.push(`  ${line}`);
  out.push('');
  out.push('  N         offloaded  host memory  KV tokens');
  // One row per distinct offload set: the intervals sharing it are listed as a span.
  const rows: { from: number; to: number; m: IntervalPlan['intervals'][number] }[] = [];
  for (const m of plan.intervals) {
    const last = rows[rows.length - 1];
    if (last && last.m.offloadedLayers === m.offloadedLayers) last.to = m.interval;
    else rows.push({ from: m.interval, to: m.interval, m });
  }
  for (const { from, to, m } of rows) {
    const span =
      from === to ? formatInterval(from) : `${formatInterval(from)}-${formatInterval(to)}`;
    out.push(
      `  ${span.padEnd(9)} ${String(m.offloadedLayers).padStart(9)}  ${gigabytes(m.hostMemoryBytes).padStart(11)}  ${String(m.kvCapacityTokens).padStart(9)}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'compute the offload interval range, host memory and KV capacity for a model, GPU and SLO',
    )
    .option('--model <name>', 'built-in model name (e.g. llama-13b)')
    .option('--gpu <name>', 'built-in GPU name (e.g. a100-40gb)')
    .option('--model-file <file>', 'model description (YAML/JSON) or Hugging Face config.json')
    .option('--gpu-file <file>', 'GPU description (YAML/JSON)')
    .option(
      '--profile <file>',
      'measured layer profile (src/planner/PROFILE-FORMAT.md); default analytic roofline',
    )
    .option('--slo-ttft-ms <ms>', 'time to first token target, ms')
    .option('--slo-tpot-ms <ms>', 'time per output token target, ms')
    .option('--batch-sizes <list>', 'decode batch sizes to serve, comma-separated', '1,8,32')
    .option('--context-lengths <list>', 'context lengths to serve, comma-separated', '512,2048')
    .option(
      '--prefill-chunk-tokens <n>',
      'chunked-prefill size; iterations mixing a chunk with decodes must meet the TPOT',
    )
    .option('--staging-slots <n>', 'GPU staging slots for streamed layers', '2')
    .option('--pattern <pattern>', 'offload set pattern: nested or every-nth', 'nested')
    .option('--json', 'print the plan as JSON')
    .option('--plot <file.svg>', 'write predicted iteration time against N as SVG')
    .action((flags: PlanFlags) => {
      const inputs = loadPlannerInputs(flags);
      if (flags.pattern !== 'nested' && flags.pattern !== 'every-nth') {
        throw new UsageError(`--pattern: must be nested or every-nth, got "${flags.pattern}"`);
      }
      const pattern: OffloadPattern = flags.pattern;
      const slo = {
        ttftMs: positiveNumber('--slo-ttft-ms', flags.sloTtftMs),
        tpotMs: positiveNumber('--slo-tpot-ms', flags.sloTpotMs),
      };
      const workload = {
        batchSizes: integerList('--batch-sizes', flags.batchSizes),
        contextLengths: integerList('--context-lengths', flags.contextLengths),
        ...(flags.prefillChunkTokens !== undefined
          ? {
              prefillChunkTokens: positiveInteger(
                '--prefill-chunk-tokens',
                flags.prefillChunkTokens,
              ),
            }
          : {}),
      };
      const stagingSlots = positiveInteger('--staging-slots', flags.stagingSlots);
      const longest = Math.max(...workload.contextLengths);
      if (longest > inputs.model.maxPositionEmbeddings) {
        throw new UsageError(
          `--context-lengths: ${longest} exceeds ${inputs.model.name}'s ${inputs.model.maxPositionEmbeddings}-token context`,
        );
      }
      let plan: IntervalPlan;
      try {
        plan = planIntervalRange({ ...inputs, slo, workload, options: { stagingSlots, pattern } });
      } catch (error) {
        if (error instanceof PlannerError && flags.json) {
          process.stdout.write(
            JSON.stringify({ error: { code: error.code, message: error.message } }, null, 2) + '\n',
          );
        }
        throw error;
      }
      if (flags.plot !== undefined) {
        const latency = latencyModel(inputs.model, inputs.profile, { stagingSlots, pattern });
        writeFileSync(flags.plot, planPlotSvg(plan, latency));
      }
      if (flags.json) process.stdout.write(JSON.stringify(plan, null, 2) + '\n');
      else printPlan(plan);
    });
}
