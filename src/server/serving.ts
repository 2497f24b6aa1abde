// Composition of the serving core from its parts: scheduler, engine loop, statistics, metrics
// observers and the plan controller, over an engine port, a text port and a policy. Used by
// `selectn serve` with the real engine and by the bench with the same engine under other policies.
import type { PlanWire } from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ServeConfig } from './config.ts';
import { EngineLoop } from './engine-loop.ts';
import type { EnginePort } from './engine-port.ts';
import type { ServerMetrics } from './metrics.ts';
import { PlanController, type PlanTarget } from './plan-controller.ts';
import type { ServingPolicy } from './policies.ts';
import { Scheduler, type Clock } from './scheduler/scheduler.ts';
import type { Serving } from './state.ts';
import { ServingStats } from './stats.ts';
import type { TextModelPort } from './text-port.ts';

export interface ServingParts {
  config: ServeConfig;
  engine: EnginePort;
  text: TextModelPort;
  policy: ServingPolicy;
  /** Applies plans to the policy and the runtime. */
  planTarget: PlanTarget;
  initialPlan: PlanWire;
  modelName: string;
  modelInfo: Serving['modelInfo'];
  clock: Clock;
  logger: Logger;
  metrics?: ServerMetrics;
}

export const monotonicClock: Clock = {
  now: () => performance.now(),
};

export function createServing(parts: ServingParts): Serving {
  const { config, engine } = parts;
  const maxModelLen = Math.min(config.maxModelLen ?? engine.maxModelLen, engine.maxModelLen);
  const scheduler = new Scheduler(engine.kv, parts.policy, parts.clock, {
    maxNumSeqs: config.maxNumSeqs,
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    maxModelLen,
    ...(engine.slidingWindow !== undefined ? { slidingWindow: engine.slidingWindow } : {}),
  });
  const loop = new EngineLoop(
    engine,
    scheduler,
    parts.clock,
    parts.logger.child({ component: 'engine' }),
  );
  const stats = new ServingStats(parts.clock, {
    ttftMs: config.sloTtftMs,
    tpotMs: config.sloTpotMs,
  });
  loop.observe(stats);
  // The policy learns how fast the device runs now against its profile.
  loop.observe({
    onIteration: (r) => {
      parts.policy.observeIteration(r.output.predictedMs, r.result.elapsedMs);
    },
  });
  if (parts.metrics) loop.observe(parts.metrics);
  const plan = new PlanController(parts.initialPlan, parts.planTarget, loop);
  plan.applyInitial();
  loop.start();
  return {
    engine: loop,
    text: parts.text,
    modelName: parts.modelName,
    maxModelLen,
    plan,
    stats,
    modelInfo: parts.modelInfo,
    createdS: Math.floor(Date.now() / 1000),
  };
}
