// The SelectNDeployment resource: zod schemas are the single source of its TypeScript types, its
// defaults, its validation in the operator and the CRD's OpenAPI schema (see crd.ts). Every field
// has a description; cross-field rules are CEL expressions (x-kubernetes-validations) that the API
// server enforces and that superRefine checks mirror in TypeScript.
import { z } from 'zod';
import {
  API_VERSION,
  CONDITION_STATUS,
  CONDITION_TYPES,
  KIND,
  MAX_NAME_LENGTH,
  MAX_REPLICAS,
} from './constants.ts';
import { quantity } from './quantity.ts';

/** A CEL rule for x-kubernetes-validations. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
}

function rules(...list: CelRule[]): { 'x-kubernetes-validations': CelRule[] } {
  return { 'x-kubernetes-validations': list };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RESOURCE_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PERCENT_OR_INT = /^[0-9]+%$/;

export const DEFAULT_SERVER_IMAGE = 'ghcr.io/selectn/selectn:0.1.0';
export const DEFAULT_GPU_RESOURCE = 'nvidia.com/gpu';

// ---- spec ---------------------------------------------------------------------------------

export const PvcSourceSchema = z
  .object({
    claimName: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain name')
      .describe('Name of a PersistentVolumeClaim in the same namespace.'),
    readOnly: z.boolean().default(true).describe('Mount the claim read-only.'),
  })
  .describe('The model lies on a PersistentVolumeClaim.');

export const HostPathSourceSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^\//, 'must be an absolute path')
      .describe('Absolute directory on the node; mounted at the same path in the pod.'),
  })
  .describe('The model lies in a directory on the node (single-node and local clusters).');

export const ImageSourceSchema = z
  .object({
    reference: z
      .string()
      .min(1)
      .max(1024)
      .describe('OCI image (artifact) holding the model files; mounted with an image volume.'),
    pullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'])
      .default('IfNotPresent')
      .describe('Pull policy of the model image.'),
  })
  .describe('The model is an OCI image mounted as an image volume (Kubernetes 1.33+).');

export const ModelSourceSchema = z
  .object({
    pvc: PvcSourceSchema.optional(),
    hostPath: HostPathSourceSchema.optional(),
    image: ImageSourceSchema.optional(),
    subPath: z
      .string()
      .max(4096)
      .regex(/^[^/]/, 'must be a relative path')
      .optional()
      .describe('Directory of the model inside the volume; empty for its root.'),
  })
  .superRefine((v, ctx) => {
    const set = [v.pvc, v.hostPath, v.image].filter((x) => x !== undefined).length;
    if (set !== 1)
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of pvc, hostPath or image must be set',
        path: [],
      });
  })
  .describe('Where the model files come from: exactly one of pvc, hostPath or image.')
  .meta(
    rules({
      rule: '(has(self.pvc) ? 1 : 0) + (has(self.hostPath) ? 1 : 0) + (has(self.image) ? 1 : 0) == 1',
      message: 'exactly one of pvc, hostPath or image must be set',
    }),
  );

export const ModelSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .describe('Name the model is served under (the OpenAI `model` field).'),
    catalogName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("Key of the model in the planner's model catalog; defaults to `name`."),
    source: ModelSourceSchema,
    format: z.enum(['safetensors']).default('safetensors').describe('File format of the weights.'),
    dtype: z
      .enum(['auto', 'float32', 'float16', 'bfloat16'])
      .default('auto')
      .describe('Data type of the weights in memory; auto keeps the checkpoint type.'),
  })
  .describe('The model to serve.');

export const SloSchema = z
  .object({
    ttftMs: z
      .number()
      .positive()
      .max(3_600_000)
      .default(2000)
      .describe('Time to first token target in milliseconds (prefill).'),
    tpotMs: z
      .number()
      .positive()
      .max(600_000)
      .default(100)
      .describe('Time per output token target in milliseconds (decode).'),
    percentile: z
      .number()
      .min(50)
      .max(100)
      .default(99)
      .describe('Percentile of requests that must meet both targets, 50 to 100.'),
  })
  .superRefine((v, ctx) => {
    if (!(v.ttftMs > 0 && v.tpotMs > 0))
      ctx.addIssue({ code: 'custom', message: 'ttftMs and tpotMs must be positive', path: [] });
  })
  .prefault({})
  .describe('Latency service-level objective of every request.')
  .meta(
    rules({
      rule: 'self.ttftMs > 0 && self.tpotMs > 0',
      message: 'ttftMs and tpotMs must be positive',
    }),
  );

export const IntervalBoundsSchema = z
  .object({
    min: z
      .int()
      .min(1)
      .max(10_000)
      .describe('Smallest offloading interval the planner may choose (1 streams every layer).'),
    max: z.int().min(1).max(10_000).describe('Largest offloading interval the planner may choose.'),
  })
  .superRefine((v, ctx) => {
    if (v.min > v.max)
      ctx.addIssue({
        code: 'custom',
        message: 'interval.min must be <= interval.max',
        path: ['min'],
      });
  })
  .describe('Bounds on the offloading interval N (about one layer in N lives in host memory).')
  .meta(
    rules({
      rule: 'self.min <= self.max',
      message: 'interval.min must be <= interval.max',
      fieldPath: '.min',
    }),
  );

export const OFFLOAD_MODES = ['auto', 'fixed', 'disabled'] as const;
export const LAYER_SELECTIONS = ['nested', 'strided'] as const;

export const OffloadSchema = z
  .object({
    mode: z
      .enum(OFFLOAD_MODES)
      .default('auto')
      .describe(
        'auto: the planner picks the range within bounds; fixed: interval.min == interval.max is used; disabled: no layer offloaded.',
      ),
    interval: IntervalBoundsSchema.optional(),
    hostMemoryLimit: quantity(
      'Upper bound on the pinned host memory per pod for offloaded layers (e.g. 24Gi); unset: no bound.',
    ).optional(),
    layerSelection: z
      .enum(LAYER_SELECTIONS)
      .default('nested')
      .describe('nested: offload sets nest across intervals (default); strided: every N-th layer.'),
  })
  .superRefine((v, ctx) => {
    if (v.mode === 'fixed' && (v.interval === undefined || v.interval.min !== v.interval.max)) {
      ctx.addIssue({
        code: 'custom',
        message: 'mode fixed needs interval.min == interval.max',
        path: ['interval'],
      });
    }
    if (v.mode === 'disabled' && v.interval !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'mode disabled takes no interval',
        path: ['interval'],
      });
    }
  })
  .prefault({})
  .describe('How layers are offloaded to host memory.')
  .meta(
    rules(
      {
        rule: "self.mode != 'fixed' || (has(self.interval) && self.interval.min == self.interval.max)",
        message: 'mode fixed needs interval.min == interval.max',
        fieldPath: '.interval',
      },
      {
        rule: "self.mode != 'disabled' || !has(self.interval)",
        message: 'mode disabled takes no interval',
        fieldPath: '.interval',
      },
    ),
  );

export const GpuSchema = z
  .object({
    count: z.int().min(0).max(64).default(1).describe('GPUs per pod.'),
    resourceName: z
      .string()
      .min(1)
      .max(253)
      .regex(RESOURCE_NAME)
      .default(DEFAULT_GPU_RESOURCE)
      .describe('Extended resource name of the GPU (e.g. nvidia.com/gpu).'),
    product: z
      .string()
      .max(253)
      .optional()
      .describe(
        "GPU model in the planner's hardware catalog (e.g. a100-40gb, h100-80gb); pick matching nodes with template.nodeSelector (e.g. on nvidia.com/gpu.product).",
      ),
  })
  .prefault({})
  .describe('GPUs of each pod.');

export const ResourcesSchema = z
  .object({
    gpu: GpuSchema,
    cpu: quantity('CPU request and limit of the serving container (e.g. 4 or 500m).').default('2'),
    memory: quantity(
      'Memory of the server itself, without the offloaded layers; the pod asks for this plus the planned host memory.',
    ).default('4Gi'),
  })
  .prefault({})
  .describe('Compute resources of each pod.');

export const DEVICES = ['cuda', 'cpu'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

export const ServerSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        "Container image that runs `selectn serve`; default: the operator's --server-image (the chart sets its own image, the one `npm run image` builds), else " +
          DEFAULT_SERVER_IMAGE +
          '.',
      ),
    imagePullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'])
      .default('IfNotPresent')
      .describe('Pull policy of the server image.'),
    port: z
      .int()
      .min(1)
      .max(65535)
      .default(8000)
      .describe('HTTP port of the OpenAI API, health, metrics and control endpoints.'),
    maxBatchSize: z.int().min(1).max(4096).default(32).describe('Most sequences in one iteration.'),
    maxModelLen: z
      .int()
      .min(16)
      .max(1_048_576)
      .optional()
      .describe("Longest context (prompt plus output) in tokens; unset: the model's own."),
    device: z
      .enum(DEVICES)
      .default('cuda')
      .describe('Backend of the runtime: cuda, or cpu (the CPU backend, e.g. on fake GPU nodes).'),
    deviceMemory: quantity(
      'Cap on the device memory pool (to reproduce a smaller GPU, e.g. on the CPU backend).',
    ).optional(),
    copyBandwidth: quantity(
      'Pace host-to-device copies to this many bytes per second (to reproduce a PCIe link).',
    ).optional(),
    logLevel: z.enum(LOG_LEVELS).default('info').describe('Log level of the server.'),
  })
  .prefault({})
  .describe('The serving container.');

export const TolerationSchema = z
  .object({
    key: z
      .string()
      .max(316)
      .optional()
      .describe('Taint key the toleration applies to; empty with Exists matches all.'),
    operator: z.enum(['Exists', 'Equal']).default('Equal').describe('Exists or Equal.'),
    value: z.string().max(63).optional().describe('Taint value for operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Taint effect to match; empty matches all.'),
    tolerationSeconds: z
      .int()
      .min(0)
      .optional()
      .describe('For NoExecute: how long the pod stays bound after the taint appears.'),
  })
  .describe('A pod toleration (core/v1 Toleration).');

export const PodTemplateSchema = z
  .object({
    labels: z.record(z.string(), z.string()).optional().describe('Extra labels on each pod.'),
    annotations: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra annotations on each pod.'),
    nodeSelector: z
      .record(z.string(), z.string())
      .optional()
      .describe('Node selector of each pod.'),
    tolerations: z.array(TolerationSchema).max(64).optional().describe('Tolerations of each pod.'),
    affinity: z.record(z.string(), z.unknown()).optional().meta({
      description: 'Affinity of each pod (core/v1 Affinity, passed through as is).',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
    priorityClassName: z.string().max(253).optional().describe('PriorityClass of each pod.'),
    runtimeClassName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe(
        'RuntimeClass of each pod, e.g. nvidia where the NVIDIA container runtime is not the default.',
      ),
    imagePullSecrets: z
      .array(z.object({ name: z.string().min(1).max(253).describe('Secret name.') }))
      .max(16)
      .optional()
      .describe(
        'Pull secrets of the server image (and of an image model source), in the namespace.',
      ),
    serviceAccountName: z
      .string()
      .max(253)
      .optional()
      .describe('ServiceAccount the pods run as; default: the namespace default.'),
    localRunner: z
      .boolean()
      .default(false)
      .describe(
        'Label pods `selectn.dev/local-runner: "true"` so that the local cluster runs them as real processes.',
      ),
  })
  .prefault({})
  .describe('Limited overrides of the pod template.');

const intOrPercent = (description: string, fallback: number | string) =>
  z
    .union([
      z.int().min(0),
      z.string().regex(PERCENT_OR_INT, 'must be an integer or a percentage such as 25%'),
    ])
    .meta({ description, 'x-kubernetes-int-or-string': true })
    .default(fallback);

export const RolloutSchema = z
  .object({
    maxUnavailable: intOrPercent(
      'Most desired pods that may be unavailable during a rolling replacement (count or percentage, rounded down).',
      0,
    ),
    maxSurge: intOrPercent(
      'Most pods above spec.replicas during a rolling replacement (count or percentage, rounded up).',
      1,
    ),
  })
  .superRefine((v, ctx) => {
    const zero = (x: number | string) => x === 0 || x === '0%';
    if (zero(v.maxUnavailable) && zero(v.maxSurge)) {
      ctx.addIssue({
        code: 'custom',
        message: 'maxSurge and maxUnavailable must not both be zero',
        path: [],
      });
    }
  })
  .prefault({})
  .describe('Rolling replacement of pods when the pod template changes.')
  .meta(
    rules({
      rule: "!(type(self.maxUnavailable) == int ? self.maxUnavailable == 0 : self.maxUnavailable == '0%') || !(type(self.maxSurge) == int ? self.maxSurge == 0 : self.maxSurge == '0%')",
      message: 'maxSurge and maxUnavailable must not both be zero',
    }),
  );

export const AutoscalingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Let the operator scale replicas to keep SLO attainment at the target.'),
    minReplicas: z
      .int()
      .min(0)
      .max(MAX_REPLICAS)
      .default(1)
      .describe('Fewest replicas the autoscaler keeps.'),
    maxReplicas: z
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .default(4)
      .describe(`Most replicas the autoscaler creates (at most ${MAX_REPLICAS}).`),
    targetSloAttainment: z
      .number()
      .gt(0)
      .max(1)
      .default(0.99)
      .describe('Fraction of requests meeting the SLO that the autoscaler aims for, in (0, 1].'),
    scaleDownDelaySeconds: z
      .int()
      .min(0)
      .max(86_400)
      .default(300)
      .describe('Seconds attainment must stay above target before removing a replica.'),
  })
  .superRefine((v, ctx) => {
    if (!(v.minReplicas <= v.maxReplicas && v.maxReplicas <= MAX_REPLICAS)) {
      ctx.addIssue({
        code: 'custom',
        message: `autoscaling needs minReplicas <= maxReplicas <= ${MAX_REPLICAS}`,
        path: ['minReplicas'],
      });
    }
  })
  .prefault({})
  .describe('SLO-driven autoscaling of replicas.')
  .meta(
    rules({
      rule: `self.minReplicas <= self.maxReplicas && self.maxReplicas <= ${MAX_REPLICAS}`,
      message: `autoscaling needs minReplicas <= maxReplicas <= ${MAX_REPLICAS}`,
      fieldPath: '.minReplicas',
    }),
  );

export const SpecSchema = z
  .object({
    replicas: z.int().min(0).max(MAX_REPLICAS).default(1).describe('Number of serving pods.'),
    model: ModelSchema,
    slo: SloSchema,
    offload: OffloadSchema,
    resources: ResourcesSchema,
    server: ServerSchema,
    template: PodTemplateSchema,
    rollout: RolloutSchema,
    autoscaling: AutoscalingSchema,
  })
  .describe('Desired state of a SelectNDeployment.');

// ---- status -------------------------------------------------------------------------------

export const ConditionSchema = z
  .object({
    type: z
      .enum(Object.values(CONDITION_TYPES) as [string, ...string[]])
      .describe('Ready, Progressing, Degraded or SLOMet.'),
    status: z
      .enum(Object.values(CONDITION_STATUS) as [string, ...string[]])
      .describe('True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('One of the named reasons of the condition type (CamelCase).'),
    message: z.string().max(32768).describe('Human-readable detail.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation the condition was computed for.'),
    lastTransitionTime: z.iso.datetime().describe('When status last changed (RFC 3339).'),
  })
  .describe('A condition of the resource (metav1.Condition).');

export const PLAN_BASES = ['planner', 'fixed', 'disabled', 'fallback'] as const;

export const PlanStatusSchema = z
  .object({
    intervalMin: z
      .int()
      .min(1)
      .nullable()
      .describe('Smallest interval N in the range; null when nothing is offloaded.'),
    intervalMax: z
      .int()
      .min(1)
      .nullable()
      .describe('Largest interval N in the range; null means it extends to no offloading.'),
    offloadedLayersMax: z
      .int()
      .min(0)
      .describe('Layers in host memory at intervalMin (the host pool holds exactly these).'),
    hostMemoryBytes: z
      .int()
      .min(0)
      .describe('Pinned host memory per pod for offloaded layers, in bytes.'),
    hostMemory: z.string().describe('hostMemoryBytes as a quantity (e.g. 6Gi).'),
    podMemoryBytes: z
      .int()
      .min(0)
      .describe('Memory request and limit of each pod: server baseline plus hostMemoryBytes.'),
    basis: z
      .enum(PLAN_BASES)
      .describe(
        'planner: offline range from the planner; fixed/disabled: from spec.offload; fallback: planner unavailable, safe bounds used.',
      ),
    detail: z
      .string()
      .max(4096)
      .describe('How the plan was derived (model, hardware, bandwidth range, SLO).'),
    computedAt: z.iso.datetime().describe('When the plan was computed.'),
    specGeneration: z.int().min(0).describe('metadata.generation the plan was computed for.'),
  })
  .describe('The initial plan that new pods start with.');

export const TelemetryStatusSchema = z
  .object({
    sloAttainment: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Fraction of finished requests that met the SLO over the window, across pods.'),
    tokensPerSecond: z.number().min(0).describe('Generated tokens per second, summed over pods.'),
    ttftP99Ms: z.number().min(0).nullable().describe('Largest per-pod TTFT p99 in ms.'),
    tpotP99Ms: z.number().min(0).nullable().describe('Largest per-pod TPOT p99 in ms.'),
    queueDepth: z.int().min(0).describe('Waiting requests, summed over pods.'),
    meanInterval: z
      .number()
      .min(0)
      .nullable()
      .describe('Mean interval N over iterations, across pods (null: none offloaded).'),
    hostMemoryUsedBytes: z.int().min(0).describe('Pinned host memory in use, summed over pods.'),
    copyBandwidthBytesPerSecond: z
      .number()
      .min(0)
      .describe('Median host-to-device copy bandwidth, summed over pods.'),
    observedAt: z.iso.datetime().describe('When the newest snapshot was taken.'),
  })
  .describe('Telemetry aggregated over ready pods.');

export const PodSummarySchema = z
  .object({
    name: z.string().describe('Pod name.'),
    node: z.string().optional().describe('Node the pod is bound to.'),
    phase: z.string().describe('Pod phase.'),
    ready: z.boolean().describe('Pod Ready condition.'),
    updated: z.boolean().describe('Pod runs the current template.'),
    reason: z
      .string()
      .optional()
      .describe('Why the pod is not ready, if known (e.g. Unschedulable, CrashLoopBackOff).'),
    interval: z
      .int()
      .min(1)
      .nullable()
      .optional()
      .describe('Interval N in use at the last telemetry (null: none offloaded).'),
    sloAttainment: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .optional()
      .describe('Pod SLO attainment at the last telemetry.'),
    pciBusId: z
      .string()
      .optional()
      .describe('PCI bus id of the first GPU of the pod, from telemetry.'),
    bus: z
      .string()
      .optional()
      .describe(
        'Bus the pod shares with others (node/switch, else node/root port; node/cpu without one), from telemetry.',
      ),
    telemetryStale: z
      .boolean()
      .optional()
      .describe('The pod did not answer its last telemetry read; its figures are not used.'),
    planBasis: z
      .string()
      .optional()
      .describe(
        'Basis of the plan in force in the pod (measured, bus-budget, or the start-up plan), from telemetry.',
      ),
    planGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('Generation of the plan in force in the pod (0: the one it started with).'),
    intervalRange: z
      .string()
      .optional()
      .describe('Interval range of the plan in force in the pod, e.g. 2-8 or 3-inf.'),
  })
  .describe('Summary of one pod.');

export const MAX_POD_SUMMARIES = 32;

export const DisplaySchema = z
  .object({
    ready: z.string().describe('ready/desired replicas, for `kubectl get`.'),
    interval: z.string().describe('Interval range, e.g. 2-8, or off.'),
    slo: z.string().describe('SLO attainment, e.g. 99.5%, or - without telemetry.'),
  })
  .describe('Preformatted values for printer columns.');

export const StatusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation this status was computed for.'),
    replicas: z.int().min(0).default(0).describe('Pods owned (any template), not terminating.'),
    readyReplicas: z.int().min(0).default(0).describe('Owned pods with Ready true.'),
    updatedReplicas: z.int().min(0).default(0).describe('Owned pods on the current template.'),
    availableReplicas: z.int().min(0).default(0).describe('Ready pods on the current template.'),
    desiredReplicas: z
      .int()
      .min(0)
      .optional()
      .describe('Replicas the autoscaler wants (equals spec.replicas when autoscaling is off).'),
    selector: z
      .string()
      .optional()
      .describe('Label selector of the pods, as a string (scale subresource).'),
    templateHash: z.string().optional().describe('Hash of the current pod template.'),
    conditions: z
      .array(ConditionSchema)
      .max(8)
      .optional()
      .meta({
        description: 'Conditions: Ready, Progressing, Degraded, SLOMet.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    plan: PlanStatusSchema.optional(),
    telemetry: TelemetryStatusSchema.optional(),
    pods: z
      .array(PodSummarySchema)
      .max(MAX_POD_SUMMARIES)
      .optional()
      .describe(`Up to ${MAX_POD_SUMMARIES} pod summaries, not-ready first.`),
    display: DisplaySchema.optional(),
  })
  .describe('Observed state of a SelectNDeployment.');

export const MetadataSchema = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.int().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: z.string().optional(),
    creationTimestamp: z.string().optional(),
  })
  .loose();

export const SelectNDeploymentSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(KIND),
    metadata: MetadataSchema,
    spec: SpecSchema,
    status: StatusSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.metadata.name?.length ?? 0) > MAX_NAME_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${MAX_NAME_LENGTH} characters`,
        path: ['metadata', 'name'],
      });
    }
  });

export type SelectNDeploymentSpec = z.output<typeof SpecSchema>;
export type SelectNDeploymentSpecInput = z.input<typeof SpecSchema>;
export type SelectNDeploymentStatus = z.output<typeof StatusSchema>;
export type SelectNDeployment = z.output<typeof SelectNDeploymentSchema>;
export type SelectNDeploymentInput = z.input<typeof SelectNDeploymentSchema>;
export type Condition = z.output<typeof ConditionSchema>;
export type PlanStatus = z.output<typeof PlanStatusSchema>;
export type TelemetryStatus = z.output<typeof TelemetryStatusSchema>;
export type PodSummary = z.output<typeof PodSummarySchema>;
export type OffloadSpec = z.output<typeof OffloadSchema>;
export type Toleration = z.output<typeof TolerationSchema>;
export type ModelSource = z.output<typeof ModelSourceSchema>;
