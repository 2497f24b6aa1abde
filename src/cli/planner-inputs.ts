// Shared flag handling of `selectn plan` and `selectn simulate`: reads model, GPU and profile
// files and turns planner errors about them into usage errors naming the flag.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  PlannerError,
  PlannerErrorCode,
  analyticProfile,
  builtinHardware,
  builtinHardwareNames,
  builtinModel,
  builtinModelNames,
  measuredProfile,
  parseHardwareDescription,
  parseModelDescription,
  parseStructuredText,
  validateProfileFile,
  type HardwareDescription,
  type LayerProfile,
  type ModelDescription,
} from '../planner/index.ts';
import { UsageError } from './errors.ts';

export interface ModelGpuFlags {
  model?: string;
  gpu?: string;
  modelFile?: string;
  gpuFile?: string;
  profile?: string;
}

export interface PlannerInputs {
  model: ModelDescription;
  hardware: HardwareDescription;
  profile: LayerProfile;
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(`${flag}: cannot read ${path} (${reason})`);
  }
}

/** Runs fn, turning description errors into "--flag: message" usage errors. */
function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (
      error instanceof PlannerError &&
      error.code !== PlannerErrorCode.SloUnmeetable &&
      error.code !== PlannerErrorCode.ModelDoesNotFit
    ) {
      throw new UsageError(`${flag}: ${error.message}`);
    }
    throw error;
  }
}

/** A HF config.json is named by its folder (…/llama-13b/config.json gives "llama-13b"). */
function nameFromPath(path: string): string {
  const file = basename(path).replace(/\.(json|ya?ml)$/i, '');
  return file === 'config' ? basename(dirname(path)) || 'model' : file;
}

export function loadPlannerInputs(flags: ModelGpuFlags): PlannerInputs {
  let model: ModelDescription;
  if (flags.modelFile !== undefined) {
    const path = flags.modelFile;
    const text = readText(path, '--model-file');
    model = asUsage('--model-file', () => parseModelDescription(text, nameFromPath(path)));
  } else if (flags.model !== undefined) {
    const name = flags.model;
    model = asUsage('--model', () => builtinModel(name));
  } else {
    throw new UsageError(
      `--model: required (or --model-file); built-in models: ${builtinModelNames().join(', ')}`,
    );
  }
  let hardware: HardwareDescription;
  if (flags.gpuFile !== undefined) {
    const text = readText(flags.gpuFile, '--gpu-file');
    hardware = asUsage('--gpu-file', () => parseHardwareDescription(text));
  } else if (flags.gpu !== undefined) {
    const name = flags.gpu;
    hardware = asUsage('--gpu', () => builtinHardware(name));
  } else {
    throw new UsageError(
      `--gpu: required (or --gpu-file); built-in GPUs: ${builtinHardwareNames().join(', ')}`,
    );
  }
  let profile: LayerProfile;
  if (flags.profile !== undefined) {
    const text = readText(flags.profile, '--profile');
    profile = asUsage('--profile', () =>
      measuredProfile(
        validateProfileFile(parseStructuredText(text, 'profile file')),
        model,
        hardware,
      ),
    );
  } else {
    profile = analyticProfile(model, hardware);
  }
  return { model, hardware, profile };
}

/** Parses a positive number flag, or throws naming it. */
export function positiveNumber(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${flag}: required`);
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag}: must be a positive number, got "${value}"`);
  return n;
}

export function positiveInteger(
  flag: string,
  value: string | undefined,
  fallback?: number,
): number {
  const n = positiveNumber(flag, value, fallback);
  if (!Number.isInteger(n))
    throw new UsageError(`${flag}: must be a whole number, got "${value ?? ''}"`);
  return n;
}

export function integerList(flag: string, value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  return items.map((item) => positiveInteger(flag, item));
}

export const gigabytes = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
