// Configuration of `selectn serve`: one zod schema validates it whether it comes from command-line
// flags or from the SELECTN_* environment variables the operator sets on pods. Flags win over the
// environment. Parsed once at start-up and passed down; nothing reads the environment later.
import { z } from 'zod';
import { parseQuantity } from './units.ts';

const quantity = (what: string) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = typeof value === 'number' ? value : parseQuantity(value);
    if (parsed === undefined || !Number.isFinite(parsed) || parsed <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a positive ${what}, got "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });

const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive();
/** Scheduling policies: the simulator's names. */
export const POLICY_PATTERN = /^(select-n|no-offload|full-streaming|fixed-n-[1-9]\d*)$/;

export const ServeConfig = z
  .object({
    model: z.string().min(1).describe('model folder (config.json, *.safetensors, tokenizer.json)'),
    modelName: z.string().min(1).optional().describe('name served by /v1/models (default: folder)'),
    sloTtftMs: positiveNumber.describe('time-to-first-token SLO in milliseconds'),
    sloTpotMs: positiveNumber.describe('time-per-output-token SLO in milliseconds'),
    sloPercentile: z.coerce
      .number()
      .min(50)
      .max(100)
      .default(99)
      .describe('percentile of requests that must meet both SLO targets'),
    device: z
      .enum(['auto', 'cpu', 'cuda'])
      .default('auto')
      .describe('runtime backend (auto: cuda when present)'),
    deviceMemory: quantity('byte size').optional().describe('cap of the device pool in bytes'),
    dtype: z
      .enum(['auto', 'float32', 'float16', 'bfloat16'])
      .default('auto')
      .describe("weight dtype in memory (auto: the checkpoint's)"),
    copyBandwidth: quantity('bandwidth in bytes/s')
      .optional()
      .describe('pace host-to-device copies to this many bytes/s'),
    hostMemory: quantity('byte size').optional().describe('limit of the pinned host pool in bytes'),
    intervalMin: positiveInt.optional().describe('lower bound of the offload interval N'),
    intervalMax: positiveInt.optional().describe('upper bound of the offload interval N'),
    layerSelection: z
      .enum(['nested', 'strided'])
      .default('nested')
      .describe('how offload sets are chosen for an interval'),
    policy: z
      .string()
      .regex(POLICY_PATTERN, 'expected select-n, no-offload, full-streaming or fixed-n-K')
      .default('select-n')
      .describe('interval policy'),
    port: z.coerce.number().int().min(0).max(65535).default(8000).describe('HTTP port'),
    host: z.string().min(1).default('0.0.0.0').describe('address to listen on'),
    controlTokenFile: z
      .string()
      .min(1)
      .optional()
      .describe('file holding the bearer token of /v1/selectn/*'),
    profileFile: z
      .string()
      .min(1)
      .optional()
      .describe('layer profile to use instead of profiling at start-up'),
    maxNumSeqs: positiveInt.default(32).describe('most sequences in one iteration'),
    maxNumBatchedTokens: positiveInt.default(512).describe('token budget of one iteration'),
    maxModelLen: positiveInt.optional().describe('context length (default: the model)'),
    maxQueue: positiveInt.default(256).describe('most waiting requests before 429'),
    bodyLimitBytes: quantity('byte size')
      .default(1 << 20)
      .describe('largest request body'),
    gracePeriodS: positiveNumber.default(30).describe('time to finish in-flight work on SIGTERM'),
    threads: positiveInt.optional().describe('compute threads of the CPU backend'),
    seed: z.coerce.number().int().min(0).default(0).describe('default sampling seed'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('log level'),
    podName: z.string().min(1).optional().describe('pod name, reported in telemetry'),
    podNamespace: z.string().min(1).optional().describe('pod namespace, reported in telemetry'),
    nodeName: z.string().min(1).optional().describe('node name, reported in telemetry'),
    deployment: z.string().min(1).optional().describe('owning SelectNDeployment, for metrics'),
  })
  .refine(
    (c) =>
      c.intervalMin === undefined || c.intervalMax === undefined || c.intervalMin <= c.intervalMax,
    { error: 'must not exceed intervalMax', path: ['intervalMin'] },
  );
export type ServeConfig = z.output<typeof ServeConfig>;
export type ServeConfigKey = keyof z.input<typeof ServeConfig>;

/** Command-line flag of each key (kebab case of the key). */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface ConfigSources {
  /** Values from commander (already keyed by camelCase option name). */
  flags: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string | undefined>>;
  /** Environment variable of each key that can come from the environment. */
  envNames: Readonly<Partial<Record<ServeConfigKey, string>>>;
}

export class ConfigError extends Error {
  /** The flag or environment variable at fault, e.g. "--slo-ttft-ms" or "SELECTN_SLO_TTFT_MS". */
  readonly source: string;
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ConfigError';
    this.source = source;
  }
}

/** Merges flags over environment and validates the whole; errors name the flag or variable. */
export function parseServeConfig(sources: ConfigSources): ServeConfig {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [key, envName] of Object.entries(sources.envNames)) {
    const value = sources.env[envName];
    if (value !== undefined && value !== '') {
      raw[key] = value;
      origin[key] = envName;
    }
  }
  const known = new Set(Object.keys(ServeConfig.shape));
  for (const [key, value] of Object.entries(sources.flags)) {
    if (value === undefined || !known.has(key)) continue;
    raw[key] = value;
    origin[key] = flagOf(key);
  }
  const result = ServeConfig.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.map(String).join('.') ?? '';
  const source = origin[key] ?? orDefaultSource(key, sources.envNames);
  const message =
    issue?.code === 'invalid_type' && raw[key] === undefined
      ? 'is required'
      : (issue?.message ?? 'invalid');
  throw new ConfigError(source, message);
}

function orDefaultSource(key: string, envNames: ConfigSources['envNames']): string {
  if (key === '') return 'config';
  const env = envNames[key as ServeConfigKey];
  return env === undefined ? flagOf(key) : `${flagOf(key)} (or ${env})`;
}
