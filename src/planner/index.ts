// Public API of the planner: pure functions and types that the server, the operator and the CLI
// import. No I/O anywhere below: callers read files and pass their text.
export { PlannerError, PlannerErrorCode } from './errors.ts';
export {
  ModelArchitecture,
  ModelDescription,
  decoderLayerBytes,
  decoderLayerParams,
  headDimOf,
  kvBytesPerToken,
  kvBytesPerTokenPerLayer,
  kvTokensHeld,
  nonLayerBytes,
  nonLayerParams,
  totalParams,
} from './model.ts';
export {
  MODEL_FAMILIES,
  REFUSED_SETTINGS,
  SUPPORTED_MODEL_TYPES,
  modelFamiliesMarkdown,
  modelFamily,
  type ModelFamily,
  type RefusedSetting,
} from './model-families.ts';
export { HardwareDescription, HostLink } from './hardware.ts';
export {
  BUILTIN_HARDWARE,
  BUILTIN_MODELS,
  builtinHardware,
  builtinHardwareNames,
  builtinModel,
  builtinModelNames,
} from './catalog.ts';
export {
  isHuggingFaceConfig,
  modelFromHuggingFaceConfig,
  parseHardwareDescription,
  parseModelDescription,
  parseStructuredText,
  validateHardwareDescription,
  validateModelDescription,
} from './description-parsing.ts';
export {
  analyticProfile,
  attendedPairs,
  type AnalyticProfileOptions,
  type BatchShape,
  type LayerProfile,
} from './profile.ts';
export {
  PROFILE_FORMAT_VERSION,
  ProfileFile,
  ProfilePoint,
  measuredProfile,
  validateProfileFile,
} from './measured-profile.ts';
export {
  predictIteration,
  predictIterationDetail,
  predictSerialCopyIteration,
  type LayerTiming,
  type TimelineDetail,
  type TimelineInput,
  type TimelineResult,
} from './timeline.ts';
export {
  NO_OFFLOAD,
  allIntervals,
  formatInterval,
  intervalOrder,
  isValidInterval,
  nestedOffloadOrder,
  fineOffloadSet,
  type FineOffloadSet,
  offloadFamily,
  offloadedLayerCount,
  offloadedLayers,
  smallestIntervalForCount,
  type OffloadFamily,
  type OffloadPattern,
} from './offload-sets.ts';
export {
  KV_BLOCK_TOKENS,
  activationReserveBytes,
  gpuMemoryAtAmount,
  gpuMemoryAtInterval,
  gpuMemoryFor,
  hostMemoryAtInterval,
  resolveMemoryOptions,
  type GpuMemoryBreakdown,
  type MemoryOptions,
  type ResolvedMemoryOptions,
} from './memory.ts';
export { latencyModel, type LatencyModel, type PreparedShape } from './latency-model.ts';
export {
  SloTargets,
  WorkloadEnvelope,
  intervalsThatFit,
  planIntervalRange,
  type ConditionKind,
  type IntervalMemory,
  type IntervalPlan,
  type PlanCondition,
  type PlanInput,
  type PlanOptions,
} from './offline-range.ts';
export {
  amountChooser,
  intervalChooser,
  type AdmissionDecision,
  type IntervalChoice,
  type IntervalChooser,
} from './online.ts';
export {
  lifeShapes,
  meanIterationMs,
  prefillShare,
  promptTokensPerIteration,
  type LifeShapes,
  type PromptAndOutput,
} from './mean-tpot.ts';
export {
  admitWithGrowth,
  type GrowthAdmissionDecision,
  type GrowthAdmissionQuery,
} from './admission.ts';
export { seededRandom, type Random } from './simulator/prng.ts';
export {
  DEFAULT_OUTPUT,
  DEFAULT_PROMPT,
  LengthDistribution,
  TraceSpec,
  generateTrace,
  type TraceRequest,
} from './simulator/trace.ts';
export {
  simulatePolicy,
  type BandwidthSchedule,
  type PolicyRun,
  type RequestOutcome,
  type SchedulerConfig,
} from './simulator/engine.ts';
export {
  fineSelectNPolicy,
  intervalPolicy,
  noOffloadPolicy,
  streamingPolicy,
  zeroCopyPolicy,
  PolicyInfeasible,
  type AdmissionQuery,
  type PolicyContext,
  type ServingPolicy,
} from './simulator/policies.ts';
export { SLO_DEFINITION, meanTpotMs, meetsSlo } from './simulator/slo.ts';
export {
  searchCapacity,
  type CapacityAtTarget,
  type CapacitySearch,
  type RateEvaluation,
} from './simulator/capacity.ts';
export {
  CAPACITY_DEFINITIONS,
  compareCapacity,
  type AdmissionKind,
  type CapacityInput,
  type CapacityPolicyReport,
  type CapacityReport,
} from './simulator/compare-capacity.ts';
export { withKvAdmission, withSloAdmission } from './simulator/admission-variants.ts';
export {
  percentile,
  summarizeRun,
  type Percentiles,
  type RunSummary,
} from './simulator/metrics.ts';
export {
  DEFAULT_FIXED_INTERVALS,
  METRIC_DEFINITIONS,
  simulatePolicies,
  type PolicyReport,
  type SimulationInput,
  type SimulationReport,
} from './simulator/compare.ts';
