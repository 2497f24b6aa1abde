// Environment of the serving container: the SELECTN_* variables the operator sets on every pod
// and `selectn serve` reads (issue 6). Each variable is SELECTN_ + the SCREAMING_SNAKE_CASE of
// the server's config key (its flag is --kebab-case of the same key), so the server can map them
// with `SERVE_ENV_NAMES`. Values are strings; sizes are plain byte counts, rates bytes per second.
// Paths (model, controlTokenFile) are paths inside the container; the local cluster's pod runner
// also sets SELECTN_MOUNT_ROOT, and the server must then read "$SELECTN_MOUNT_ROOT/<path>".
import { POD_PATHS } from './constants.ts';

export interface EnvVarDoc {
  /** The variable. */
  name: string;
  /** What the server does with it; the operator always sets the ones marked `always`. */
  description: string;
  always: boolean;
}

function env(key: string, description: string, always = false): EnvVarDoc {
  const name = `SELECTN_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
  return { name, description, always };
}

/** Server config key -> variable. Keys match `ServeConfig` of src/server/config.ts. */
export const SERVE_ENV = {
  model: env(
    'model',
    'Model folder (config.json, *.safetensors, tokenizer.json) inside the pod.',
    true,
  ),
  modelName: env('modelName', 'Name served by /v1/models and accepted in the `model` field.', true),
  sloTtftMs: env('sloTtftMs', 'TTFT SLO in milliseconds.', true),
  sloTpotMs: env('sloTpotMs', 'TPOT SLO in milliseconds.', true),
  sloPercentile: env(
    'sloPercentile',
    'Percentile of requests that must meet both SLO targets (50-100).',
    true,
  ),
  device: env('device', 'Runtime backend: cuda or cpu.', true),
  dtype: env(
    'dtype',
    "Weight dtype in memory: auto (the checkpoint's), float32, float16 or bfloat16 (spec.model.dtype).",
    true,
  ),
  deviceMemory: env(
    'deviceMemory',
    'Cap of the device pool in bytes (set only when spec.server.deviceMemory is).',
  ),
  copyBandwidth: env(
    'copyBandwidth',
    'Pace host-to-device copies to this many bytes/s (set only when spec.server.copyBandwidth is).',
  ),
  hostMemory: env(
    'hostMemory',
    'Pinned host pool target in bytes of the initial plan (plan generation 0); unset: the server sizes it within the pod memory limit.',
  ),
  intervalMin: env(
    'intervalMin',
    'Smallest interval N of the initial plan; unset: nothing offloaded.',
  ),
  intervalMax: env(
    'intervalMax',
    'Largest interval N of the initial plan; unset: up to no offloading.',
  ),
  layerSelection: env('layerSelection', 'nested or strided offload sets.', true),
  policy: env(
    'policy',
    'Interval policy: select-n (offload auto/fixed) or no-offload (offload disabled).',
    true,
  ),
  port: env(
    'port',
    'HTTP port of everything (OpenAI API, /health, /ready, /metrics, /v1/selectn/*).',
    true,
  ),
  host: env('host', 'Listen address: the pod IP (downward API status.podIP).', true),
  controlTokenFile: env(
    'controlTokenFile',
    `File holding the bearer token of /v1/selectn/* (${POD_PATHS.controlTokenFile}).`,
    true,
  ),
  maxNumSeqs: env(
    'maxNumSeqs',
    'Most sequences in one iteration (spec.server.maxBatchSize).',
    true,
  ),
  maxModelLen: env(
    'maxModelLen',
    'Context length in tokens (set only when spec.server.maxModelLen is).',
  ),
  logLevel: env('logLevel', 'Log level.', true),
  podName: env('podName', 'Pod name (downward API), reported in telemetry.', true),
  podNamespace: env('podNamespace', 'Pod namespace (downward API), reported in telemetry.', true),
  nodeName: env('nodeName', 'Node name (downward API), reported in telemetry.', true),
  deployment: env('deployment', 'Name of the owning SelectNDeployment, for metric labels.', true),
} as const;

/** Set by the local pod runner (not the operator): root under which container paths live. */
export const MOUNT_ROOT_ENV = 'SELECTN_MOUNT_ROOT';

export type ServeEnvKey = keyof typeof SERVE_ENV;

/** Config key -> variable name, the shape `parseServeConfig({ envNames })` takes. */
export const SERVE_ENV_NAMES = Object.fromEntries(
  Object.entries(SERVE_ENV).map(([key, doc]) => [key, doc.name]),
) as { readonly [K in ServeEnvKey]: string };

/** Markdown table of the variables, for docs. */
export function serveEnvTable(): string {
  const rows = Object.values(SERVE_ENV).map(
    (doc) => `| \`${doc.name}\` | ${doc.always ? 'always' : 'optional'} | ${doc.description} |`,
  );
  return ['| variable | set | meaning |', '|---|---|---|', ...rows].join('\n');
}
