// Life cycle of the serving process, shared by the plugins: liveness from the start, readiness
// once the model is loaded, profiled and planned, draining after SIGTERM.
import type { EngineLoop } from './engine-loop.ts';
import type { TextModelPort } from './text-port.ts';
import type { PlanController } from './plan-controller.ts';
import type { ServingStats } from './stats.ts';

export const Phase = {
  STARTING: 'starting',
  LOADING: 'loading',
  PROFILING: 'profiling',
  PLANNING: 'planning',
  READY: 'ready',
  DRAINING: 'draining',
  STOPPED: 'stopped',
  FAILED: 'failed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Everything the routes need once the model is up. */
export interface Serving {
  engine: EngineLoop;
  text: TextModelPort;
  modelName: string;
  maxModelLen: number;
  plan: PlanController;
  stats: ServingStats;
  /** Static description of the model for telemetry. */
  modelInfo: { numLayers: number; layerBytes: number; dtype: string };
  createdS: number;
}

export class ServingState {
  phase: Phase = Phase.STARTING;
  serving: Serving | undefined;
  failure: string | undefined;
  readonly startedMs = Date.now();

  setPhase(phase: Phase): void {
    this.phase = phase;
  }

  setReady(serving: Serving): void {
    this.serving = serving;
    this.phase = Phase.READY;
  }

  fail(message: string): void {
    this.failure = message;
    this.phase = Phase.FAILED;
  }

  get accepting(): boolean {
    return this.phase === Phase.READY;
  }
}
