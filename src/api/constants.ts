// Names that the operator, the chart, the serving pods and the tests must agree on: API group,
// kind, labels, annotations, condition types and their closed sets of reasons.

export const GROUP = 'serving.selectn.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'SelectNDeployment';
export const LIST_KIND = 'SelectNDeploymentList';
export const PLURAL = 'selectndeployments';
export const SINGULAR = 'selectndeployment';
export const SHORT_NAMES = ['sndep'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Field manager of every write the operator makes (server-side apply). */
export const FIELD_MANAGER = 'selectn-operator';

/** Longest SelectNDeployment name: pod names <name>-<8-char hash>-<slot> stay within 63. */
export const MAX_NAME_LENGTH = 50;

/** Hard cap on replicas (spec.replicas and autoscaling.maxReplicas). */
export const MAX_REPLICAS = 1000;

/** Labels the operator puts on what it owns. */
export const LABELS = {
  /** Name of the owning SelectNDeployment, on pods, the Service and the Secret. */
  deployment: 'serving.selectn.dev/deployment',
  /** Hash of the pod template (spec fields that need a new pod when they change). */
  templateHash: 'serving.selectn.dev/template-hash',
  /** Constant marker: managed by the Select-N operator. */
  managedBy: 'app.kubernetes.io/managed-by',
  /** The serving component label value, for selectors across deployments. */
  component: 'app.kubernetes.io/component',
  /**
   * The local cluster's pod runner (issue 7) starts pods with this label set to "true" as real
   * local processes instead of leaving them to kwok.
   */
  localRunner: 'selectn.dev/local-runner',
} as const;

export const MANAGED_BY = 'selectn-operator';
export const COMPONENT = 'selectn-serve';

export const ANNOTATIONS = {
  /** JSON of the plan the pod was created with (PlanWire, see wire.ts). */
  plan: 'serving.selectn.dev/plan',
  /** spec generation the pod was created for. */
  generation: 'serving.selectn.dev/generation',
} as const;

/** Node labels/annotations of the fake or real GPU nodes that the operator reads. */
export const NODE_LABELS = {
  gpuProduct: 'nvidia.com/gpu.product',
  gpuMemory: 'nvidia.com/gpu.memory',
} as const;

export const CONDITION_TYPES = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  SLOMet: 'SLOMet',
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

export const CONDITION_STATUS = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof CONDITION_STATUS)[keyof typeof CONDITION_STATUS];

/** Reasons of the Ready condition. */
export const READY_REASONS = {
  /** All desired replicas are ready and on the current template. */
  AllReplicasReady: 'AllReplicasReady',
  /** Some but not all desired replicas are ready. */
  PartiallyReady: 'PartiallyReady',
  /** No replica is ready. */
  NoReplicasReady: 'NoReplicasReady',
  /** spec.replicas is 0. */
  ScaledToZero: 'ScaledToZero',
  /** The spec cannot be served (see Degraded). */
  InvalidSpec: 'InvalidSpec',
} as const;

/** Reasons of the Progressing condition. */
export const PROGRESSING_REASONS = {
  /** Pods of an older template are being replaced. */
  RollingUpdate: 'RollingUpdate',
  /** Pods are being created to reach spec.replicas. */
  ScalingUp: 'ScalingUp',
  /** Pods are being deleted to reach spec.replicas. */
  ScalingDown: 'ScalingDown',
  /** Created pods are not ready yet. */
  WaitingForPods: 'WaitingForPods',
  /** Nothing left to do. */
  Complete: 'Complete',
  /** The controller cannot make progress (see Degraded). */
  Stalled: 'Stalled',
} as const;

/** Reasons of the Degraded condition. */
export const DEGRADED_REASONS = {
  /** No problem found. */
  AsExpected: 'AsExpected',
  /** A pod cannot be scheduled (no node has the GPUs, CPU or memory it asks for). */
  Unschedulable: 'Unschedulable',
  /** A serving container keeps restarting. */
  CrashLooping: 'CrashLooping',
  /** The spec fails validation the API server did not catch (e.g. an older CRD). */
  InvalidSpec: 'InvalidSpec',
  /** The model cannot be served (unknown to the planner or its source is unusable). */
  InvalidModel: 'InvalidModel',
  /** The offload settings admit no interval that meets the SLO within the host-memory limit. */
  PlanInfeasible: 'PlanInfeasible',
  /** The container image cannot be pulled. */
  ImagePullFailed: 'ImagePullFailed',
  /** A pod failed and will be replaced. */
  PodFailed: 'PodFailed',
  /** The API server refused an object the controller wrote. */
  ApiError: 'ApiError',
  /** A pod refused the plan re-derived from its measurement (409, 422) or none could be made; its plan in force stays. */
  PlanRefused: 'PlanRefused',
} as const;

/** Reasons of the SLOMet condition. */
export const SLO_REASONS = {
  /** Measured attainment is at or above the target. */
  SLOAttained: 'SLOAttained',
  /** Measured attainment is below the target. */
  SLOViolated: 'SLOViolated',
  /** No telemetry yet (no ready pod or no finished request in the window). */
  NoTelemetry: 'NoTelemetry',
} as const;

export const CONDITION_REASONS = {
  Ready: READY_REASONS,
  Progressing: PROGRESSING_REASONS,
  Degraded: DEGRADED_REASONS,
  SLOMet: SLO_REASONS,
} as const;

export type ReadyReason = (typeof READY_REASONS)[keyof typeof READY_REASONS];
export type ProgressingReason = (typeof PROGRESSING_REASONS)[keyof typeof PROGRESSING_REASONS];
export type DegradedReason = (typeof DEGRADED_REASONS)[keyof typeof DEGRADED_REASONS];
export type SloReason = (typeof SLO_REASONS)[keyof typeof SLO_REASONS];
export type ConditionReason = ReadyReason | ProgressingReason | DegradedReason | SloReason;

/** Reasons of the Kubernetes events the operator emits (events.k8s.io/v1 `reason`). */
export const EVENT_REASONS = {
  PodCreated: 'PodCreated',
  PodDeleted: 'PodDeleted',
  PlanComputed: 'PlanComputed',
  PlanFailed: 'PlanFailed',
  Unschedulable: 'Unschedulable',
  CrashLooping: 'CrashLooping',
  ReconcileError: 'ReconcileError',
  /** The SLO autoscaler changed spec.replicas (through the scale subresource). */
  Autoscaled: 'Autoscaled',
  /** A plan re-derived from a pod's measurement was put in force. */
  PlanPushed: 'PlanPushed',
  /** A pod refused a re-derived plan, or none could be made; its plan in force stays. */
  PlanRefused: 'PlanRefused',
  /** A pod's memory was resized in place (pods/resize) to follow its host pool. */
  PodResized: 'PodResized',
  /** A pod's telemetry failed the wire schema; it is ignored (said once per pod). */
  TelemetryInvalid: 'TelemetryInvalid',
} as const;
export type EventReason = (typeof EVENT_REASONS)[keyof typeof EVENT_REASONS];

/** Paths, in the serving container, of what the operator mounts. */
export const POD_PATHS = {
  /** Directory of the control Secret; the token is the file `token` in it. */
  controlDir: '/var/run/selectn/control',
  controlTokenFile: '/var/run/selectn/control/token',
  /** Model mount for PVC and image sources (hostPath sources mount at their own path). */
  modelDir: '/models',
  /** Writable scratch space (the root filesystem is read-only). */
  tmpDir: '/tmp',
} as const;

/** Key of the control token in the owned Secret. */
export const CONTROL_TOKEN_KEY = 'token';

/** HTTP paths of the serving pod that the operator uses. */
export const SERVE_PATHS = {
  ready: '/ready',
  health: '/health',
  telemetry: '/v1/selectn/telemetry',
  plan: '/v1/selectn/plan',
} as const;
