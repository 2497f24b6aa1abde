// Process life cycle of `selectn serve`: listen first (liveness), load the model, profile and
// plan (readiness), and on SIGTERM stop admitting, let in-flight requests finish within the grace
// period, then close. The model loading itself is injected (src/server/bootstrap.ts in
// production), so the same life cycle runs in tests.
import type { Logger } from '../log/logger.ts';
import { buildServer, type SelectnApp } from './app.ts';
import type { ServeConfig } from './config.ts';
import type { HardwareInfo } from './engine-port.ts';
import { ServerMetrics } from './metrics.ts';
import type { Clock } from './scheduler/scheduler.ts';
import { Phase, ServingState, type Serving } from './state.ts';

export interface Loaded {
  serving: Serving;
  hardware: HardwareInfo;
  /** Releases native resources after the engine loop stopped; resolves once they are freed. */
  close(): Promise<void>;
}

/** Loads the model, profiles it and plans; reports phases as it goes. */
export type Loader = (metrics: ServerMetrics, setPhase: (phase: Phase) => void) => Promise<Loaded>;

export interface RunningServer {
  app: SelectnApp;
  state: ServingState;
  metrics: ServerMetrics;
  /** host:port actually listened on. */
  address: { host: string; port: number };
  /** Resolves once loaded and ready (rejects when loading failed). */
  ready: Promise<void>;
  /** Stop admitting, drain within the grace period, stop the engine, close HTTP. */
  shutdown(reason: string): Promise<void>;
  loaded(): Loaded | undefined;
}

export async function startServer(
  config: ServeConfig,
  logger: Logger,
  clock: Clock,
  load: Loader,
): Promise<RunningServer> {
  const state = new ServingState();
  let loaded: Loaded | undefined;
  const labels: Record<string, string> = {};
  if (config.deployment !== undefined) labels['deployment'] = config.deployment;
  if (config.podName !== undefined) labels['pod'] = config.podName;
  const metrics = new ServerMetrics(
    { ttftMs: config.sloTtftMs, tpotMs: config.sloTpotMs },
    {
      status: () => state.serving?.engine.status(),
      waiting: () => state.serving?.engine.waitingCount ?? 0,
      running: () => state.serving?.engine.runningCount ?? 0,
      stats: () => state.serving?.stats,
    },
    labels,
  );
  const app = await buildServer({
    config,
    logger,
    state,
    metrics,
    clockNow: () => clock.now(),
    hardware: () => loaded?.hardware,
  });
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const address =
    addr !== null && typeof addr === 'object'
      ? { host: addr.address, port: addr.port }
      : { host: config.host, port: config.port };
  logger.info({ address }, 'listening; loading the model');

  const ready = (async () => {
    try {
      loaded = await load(metrics, (phase) => {
        state.setPhase(phase);
        logger.info({ phase }, 'start-up phase');
      });
      if (state.phase === Phase.DRAINING || state.phase === Phase.STOPPED) return;
      state.setReady(loaded.serving);
      logger.info({ model: loaded.serving.modelName }, 'ready');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      state.fail(message);
      logger.error({ err: error }, 'start-up failed');
      throw error;
    }
  })();
  // A failed start-up is reported through /ready and the ready promise; never unhandled.
  ready.catch(() => undefined);

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.info({ reason, gracePeriodS: config.gracePeriodS }, 'shutting down: draining');
      state.setPhase(Phase.DRAINING);
      const serving = state.serving;
      if (serving !== undefined) {
        const deadline = Date.now() + config.gracePeriodS * 1000;
        while (serving.engine.inFlight > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (serving.engine.inFlight > 0) {
          logger.warn(
            { inFlight: serving.engine.inFlight },
            'grace period over; aborting the rest',
          );
        }
        await serving.engine.stop();
      }
      await app.close();
      try {
        await loaded?.close();
      } catch (error) {
        logger.error({ err: error }, 'closing the engine failed');
      }
      state.setPhase(Phase.STOPPED);
      logger.info('stopped');
    })();
    return shuttingDown;
  };

  return { app, state, metrics, address, ready, shutdown, loaded: () => loaded };
}
