// Wire formats between the operator and the serving pods, on the pod's HTTP port under
// /v1/selectn/, every request with `Authorization: Bearer <token>` where the token is the file
// SELECTN_CONTROL_TOKEN_FILE (the owned Secret, mounted read-only):
//
//   GET /v1/selectn/telemetry  -> 200 TelemetrySnapshot
//   PUT /v1/selectn/plan       body PlanWire -> 200 PlanAck | 4xx ControlError
//
// Errors use the OpenAI error shape with SN_ERR_* codes: 401 SN_ERR_UNAUTHORIZED (missing or
// wrong token), 400 SN_ERR_INVALID_PLAN (schema violation; `param` names the field), 409
// SN_ERR_STALE_PLAN (generation lower than the one in force), 422 SN_ERR_PLAN_INFEASIBLE (e.g.
// hostMemoryBytes cannot hold the layers of interval.min), 503 SN_ERR_NOT_READY (still loading).
//
// Intervals: N is an integer >= 1 (about one decoder layer in N lives in host memory); `null`
// stands for N = infinity, i.e. no layer offloaded. All sizes are bytes, rates bytes per second,
// times milliseconds unless the field name says otherwise, timestamps RFC 3339 UTC.
import { z } from 'zod';

export const WIRE_SCHEMA_VERSION = 1;

const interval = z.int().min(1).nullable();
const bytes = z.int().min(0);
const rate = z.number().min(0);

/** Distribution summary over the snapshot window; null fields when there were no samples. */
export const PercentilesSchema = z
  .object({
    p50: z.number().min(0).nullable().describe('Median.'),
    p90: z.number().min(0).nullable().describe('90th percentile.'),
    p99: z.number().min(0).nullable().describe('99th percentile.'),
    mean: z.number().min(0).nullable().describe('Mean.'),
    samples: z.int().min(0).describe('Number of samples in the window.'),
  })
  .describe('Percentiles of one measure over the window.');

// ---- plan -------------------------------------------------------------------------------

export const IntervalRangeSchema = z
  .object({
    min: interval.describe('Smallest N the online policy may choose; null: nothing offloaded.'),
    max: interval.describe('Largest N the online policy may choose; null: up to no offloading.'),
  })
  .superRefine((v, ctx) => {
    if (v.min === null && v.max !== null) {
      ctx.addIssue({ code: 'custom', message: 'max must be null when min is null', path: ['max'] });
    }
    if (v.min !== null && v.max !== null && v.min > v.max) {
      ctx.addIssue({ code: 'custom', message: 'min must be <= max', path: ['min'] });
    }
  })
  .describe('Range [min, max] of the offloading interval N.');

export const PlanWireSchema = z
  .object({
    schemaVersion: z.literal(WIRE_SCHEMA_VERSION).describe('Version of this wire format.'),
    generation: z
      .int()
      .min(0)
      .describe(
        'Monotonic plan number per pod; 0 is the plan from the environment at start. The server refuses a lower generation than the one in force (409).',
      ),
    interval: IntervalRangeSchema,
    hostMemoryBytes: bytes.describe(
      'Target size of the pinned host pool; must hold the offload set of interval.min.',
    ),
    bandwidthBudgetBytesPerSecond: rate
      .nullable()
      .describe('Host-to-device copy budget of this pod (its share of the bus); null: unpaced.'),
    layerSelection: z
      .enum(['nested', 'strided'])
      .describe('How offload sets are chosen for an interval.'),
    basis: z
      .string()
      .max(4096)
      .describe('Why: planner, fixed, disabled, fallback, bus-budget, followed by free text.'),
    issuedAt: z.iso.datetime().describe('When the operator issued the plan.'),
  })
  .describe('The slow-loop plan the operator pushes to a pod (PUT /v1/selectn/plan).');

export const PlanAckSchema = z
  .object({
    accepted: z
      .literal(true)
      .describe('The plan is in force (or will be from the next iteration).'),
    plan: PlanWireSchema.describe(
      'The plan actually in force, which may be narrower than asked (e.g. the host pool could not grow).',
    ),
    appliedAt: z.iso.datetime().describe('When it took effect.'),
    note: z
      .string()
      .max(4096)
      .optional()
      .describe('Why the plan in force differs from the request, if it does.'),
  })
  .describe('Reply to PUT /v1/selectn/plan.');

export const CONTROL_ERROR_CODES = {
  Unauthorized: 'SN_ERR_UNAUTHORIZED',
  InvalidPlan: 'SN_ERR_INVALID_PLAN',
  StalePlan: 'SN_ERR_STALE_PLAN',
  PlanInfeasible: 'SN_ERR_PLAN_INFEASIBLE',
  NotReady: 'SN_ERR_NOT_READY',
} as const;
export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[keyof typeof CONTROL_ERROR_CODES];

/** HTTP status of each control error code. */
export const CONTROL_ERROR_STATUS: Record<ControlErrorCode, number> = {
  SN_ERR_UNAUTHORIZED: 401,
  SN_ERR_INVALID_PLAN: 400,
  SN_ERR_STALE_PLAN: 409,
  SN_ERR_PLAN_INFEASIBLE: 422,
  SN_ERR_NOT_READY: 503,
};

export const ControlErrorSchema = z
  .object({
    error: z.object({
      message: z.string().describe('One line naming the field or the problem.'),
      type: z.string().describe('OpenAI-style error type, e.g. invalid_request_error.'),
      code: z
        .enum(Object.values(CONTROL_ERROR_CODES) as [ControlErrorCode, ...ControlErrorCode[]])
        .describe('Stable error code.'),
      param: z.string().nullable().describe('Field at fault (dotted path), if any.'),
    }),
  })
  .describe('Error body of the control endpoints (OpenAI error shape).');

// ---- telemetry --------------------------------------------------------------------------

export const BusIdentitySchema = z
  .object({
    pciBusId: z
      .string()
      .describe('PCI address of the GPU, domain:bus:device.function, e.g. 0000:3b:00.0.'),
    switchId: z
      .string()
      .nullable()
      .describe(
        'PCI address of the nearest upstream PCIe switch port shared with other GPUs; null if directly on a root port.',
      ),
    rootPortId: z
      .string()
      .nullable()
      .describe('PCI address of the root port the GPU hangs off; null if unknown.'),
    numaNode: z.int().min(-1).nullable().describe('NUMA node of the GPU; -1 or null if unknown.'),
    linkGeneration: z.int().min(1).nullable().describe('Negotiated PCIe generation.'),
    linkWidth: z.int().min(1).nullable().describe('Negotiated PCIe lanes.'),
  })
  .describe(
    'Where the device sits on the host bus; GPUs with the same switchId (or rootPortId) share bandwidth.',
  );

export const DeviceStatusSchema = z
  .object({
    index: z.int().min(0).describe('Device ordinal in the pod.'),
    name: z.string().describe('Device product name, e.g. NVIDIA H100 80GB HBM3, or cpu.'),
    uuid: z.string().nullable().describe('Device UUID, if any.'),
    memoryTotalBytes: bytes.describe('Device memory total (the cap when --device-memory is set).'),
    memoryUsedBytes: bytes.describe('Device memory in use by this process.'),
    computeUtilization: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Busy fraction of compute over the window.'),
    bus: BusIdentitySchema.nullable().describe('Bus identity; null on the CPU backend.'),
  })
  .describe('One accelerator visible to the pod.');

export const HardwareStatusSchema = z
  .object({
    backend: z.enum(['cuda', 'cpu']).describe('Runtime backend in use.'),
    nodeName: z.string().nullable().describe('Kubernetes node, from SELECTN_NODE_NAME.'),
    devices: z.array(DeviceStatusSchema).describe('Accelerators in use.'),
    hostMemoryTotalBytes: bytes.describe(
      'Host memory of the machine (or the pod limit, whichever is smaller).',
    ),
    hostMemoryAvailableBytes: bytes.describe('Host memory still available.'),
    computeSlowdown: z
      .number()
      .min(0)
      .nullable()
      .describe(
        'Measured over profiled layer time (1 = as profiled; >1 slower, e.g. contention or throttling).',
      ),
  })
  .describe('Hardware status as measured now.');

export const PoolUsageSchema = z
  .object({
    gpuTotalBytes: bytes.describe('Device pool size.'),
    gpuResidentWeightsBytes: bytes.describe('Layer weights resident on the device.'),
    gpuStagingBytes: bytes.describe('Staging slots for streamed layers.'),
    gpuKvBytes: bytes.describe('Bytes of the KV block pool.'),
    gpuFreeBytes: bytes.describe('Unused device pool bytes.'),
    kvBlocksTotal: z.int().min(0).describe('KV blocks in the pool.'),
    kvBlocksUsed: z.int().min(0).describe('KV blocks in use.'),
    hostCapacityBytes: bytes.describe('Pinned host pool size.'),
    hostUsedBytes: bytes.describe('Pinned host bytes holding offloaded layers.'),
    offloadedLayers: z.int().min(0).describe('Layers held in host memory now.'),
    residentLayers: z.int().min(0).describe('Layers resident on the device now.'),
  })
  .describe('Elastic GPU pool and pinned host pool.');

export const BandwidthStatsSchema = z
  .object({
    h2dBytesPerSecond: PercentilesSchema.describe(
      'Achieved host-to-device copy bandwidth per copy.',
    ),
    demandBytesPerSecond: rate.describe(
      'Copy rate the pod would use unpaced (streamed bytes per iteration over compute time).',
    ),
    budgetBytesPerSecond: rate.nullable().describe('Budget in force; null: unpaced.'),
    copiedBytesTotal: bytes.describe('Bytes copied host-to-device since start (counter).'),
    stallMsTotal: z
      .number()
      .min(0)
      .describe('Compute time lost waiting for copies since start, ms (counter).'),
    stallMs: PercentilesSchema.describe('Stall per iteration over the window.'),
  })
  .describe('Copy-engine bandwidth.');

export const IntervalStatsSchema = z
  .object({
    current: interval.describe('N of the last iteration.'),
    mean: z
      .number()
      .min(1)
      .nullable()
      .describe('Mean N over the window, iterations with no offloading excluded; null if none.'),
    min: interval.describe('Smallest N used in the window.'),
    max: interval.describe('Largest N used in the window.'),
    histogram: z
      .array(
        z.object({
          interval: interval.describe('N (null: none offloaded).'),
          iterations: z.int().min(0).describe('Iterations at this N.'),
        }),
      )
      .describe('Iterations per N over the window.'),
    changes: z
      .int()
      .min(0)
      .describe('Times N changed between consecutive iterations in the window.'),
    iterations: z.int().min(0).describe('Iterations in the window.'),
  })
  .describe('Interval choices of the online policy.');

export const SloStatsSchema = z
  .object({
    ttftMs: z.number().positive().describe('TTFT target in force.'),
    tpotMs: z.number().positive().describe('TPOT target in force.'),
    percentile: z.number().min(50).max(100).describe('Percentile target in force.'),
    attainment: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe(
        'Fraction of requests finished in the window that met both targets; null if none finished.',
      ),
    ttftAttainment: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Fraction meeting the TTFT target.'),
    tpotAttainment: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Fraction meeting the TPOT target.'),
    ttft: PercentilesSchema.describe('Measured TTFT, ms.'),
    tpot: PercentilesSchema.describe('Measured TPOT, ms.'),
    requestsFinished: z.int().min(0).describe('Requests finished in the window.'),
    requestsViolated: z.int().min(0).describe('Finished requests that missed a target.'),
  })
  .describe('SLO attainment.');

export const ThroughputStatsSchema = z
  .object({
    generatedTokensPerSecond: rate.describe('Output tokens per second.'),
    promptTokensPerSecond: rate.describe('Prompt tokens per second.'),
    requestsPerSecond: rate.describe('Finished requests per second.'),
    iterationsPerSecond: rate.describe('Engine iterations per second.'),
    batchSize: PercentilesSchema.describe('Sequences per iteration.'),
    waiting: z.int().min(0).describe('Requests waiting for admission now.'),
    running: z.int().min(0).describe('Requests in the running batch now.'),
    rejectedTotal: z.int().min(0).describe('Requests refused with 429 since start (counter).'),
    preemptionsTotal: z.int().min(0).describe('Preemptions since start (counter).'),
  })
  .describe('Throughput and queue.');

const plannerRecord = z.record(z.string(), z.unknown());

/**
 * What the pod measured at start-up and planned with, so that the operator can re-plan it with
 * the same planner (src/planner) for any model. The three records are the planner's own formats
 * and are validated by the planner's schemas where they are read (src/api imports only zod).
 */
export const PlanningInputsSchema = z
  .object({
    model: plannerRecord.describe(
      "The planner's description of the loaded model (ModelDescription).",
    ),
    hardware: plannerRecord.describe(
      "The planner's description of the device as measured at start-up (HardwareDescription).",
    ),
    profile: plannerRecord.describe(
      'Measured per-layer compute profile, as `selectn profile` writes it (planner ProfileFile).',
    ),
    workload: z
      .object({
        batchSizes: z.array(z.int().min(1)).min(1).describe('Decode batch sizes planned for.'),
        contextLengths: z
          .array(z.int().min(1))
          .min(1)
          .describe('Context lengths planned for, tokens.'),
        prefillChunkTokens: z.int().min(1).optional().describe('Prefill chunk, tokens.'),
      })
      .describe('Workload envelope the pod plans for.'),
    options: z
      .object({
        gpuMemoryUtilization: z.number().gt(0).max(1).describe('Share of device memory used.'),
        stagingSlots: z.int().min(1).describe('Staging slots for streamed layers.'),
        maxBatchTokens: z.int().min(1).describe('Most tokens one iteration computes.'),
        pattern: z.enum(['nested', 'every-nth']).describe('How offload sets are chosen.'),
      })
      .describe('Planner options of the pod.'),
    copyBandwidthBytesPerSecond: rate.describe(
      'Host-to-device copy bandwidth measured at start-up, unpaced (0: not measured).',
    ),
  })
  .describe("Inputs of the pod's plan, for the operator to re-plan it from measurement.");

export const TelemetrySnapshotSchema = z
  .object({
    schemaVersion: z.literal(WIRE_SCHEMA_VERSION).describe('Version of this wire format.'),
    pod: z
      .object({
        name: z.string().nullable().describe('From SELECTN_POD_NAME.'),
        namespace: z.string().nullable().describe('From SELECTN_POD_NAMESPACE.'),
      })
      .describe('Identity of the pod.'),
    observedAt: z.iso.datetime().describe('When the snapshot was taken.'),
    windowSeconds: z
      .number()
      .positive()
      .describe('Length of the sliding window the statistics cover.'),
    uptimeSeconds: z.number().min(0).describe('Seconds since the process started.'),
    ready: z.boolean().describe('Whether /ready answers 200.'),
    model: z
      .object({
        name: z.string().describe('Served model name.'),
        numLayers: z.int().min(1).describe('Decoder layers L.'),
        layerBytes: bytes.describe('Weight bytes of one decoder layer.'),
        dtype: z.string().describe('Data type of the weights in memory.'),
      })
      .describe('The model loaded.'),
    hardware: HardwareStatusSchema,
    pools: PoolUsageSchema,
    bandwidth: BandwidthStatsSchema,
    interval: IntervalStatsSchema,
    slo: SloStatsSchema,
    throughput: ThroughputStatsSchema,
    plan: PlanWireSchema.describe('The plan in force.'),
    planning: PlanningInputsSchema.optional().describe(
      'What the pod planned with; absent before it has profiled.',
    ),
  })
  .describe('Snapshot of a serving pod (GET /v1/selectn/telemetry).');

export type Percentiles = z.output<typeof PercentilesSchema>;
export type IntervalRange = z.output<typeof IntervalRangeSchema>;
export type PlanWire = z.output<typeof PlanWireSchema>;
export type PlanAck = z.output<typeof PlanAckSchema>;
export type ControlError = z.output<typeof ControlErrorSchema>;
export type BusIdentity = z.output<typeof BusIdentitySchema>;
export type TelemetrySnapshot = z.output<typeof TelemetrySnapshotSchema>;
export type PlanningInputs = z.output<typeof PlanningInputsSchema>;

/** Key of the bus a device shares with others: switch, else root port, else the device alone. */
export function busKey(nodeName: string | null, bus: BusIdentity | null): string {
  const node = nodeName ?? '?';
  if (bus === null) return `${node}/cpu`;
  return `${node}/${bus.switchId ?? bus.rootPortId ?? bus.pciBusId}`;
}
