// `selectn serve`: the serving pod. Flags and SELECTN_* environment variables share one schema
// (src/server/config.ts); flags win. Listens at once (liveness), becomes ready after loading,
// profiling and planning; SIGTERM drains within the grace period and exits 0.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MOUNT_ROOT_ENV, SERVE_ENV_NAMES } from '../api/index.ts';
import { createLogger } from '../log/logger.ts';
import { ConfigError, flagOf, parseServeConfig, ServeConfig } from '../server/config.ts';
import { UsageError } from './errors.ts';
import { ensureNativeAddon } from './native-addon.ts';

/** Progress of work done on first use (the native build) goes to stderr, apart from the logs. */
export const progressToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Adds one `--kebab-key <value>` option per config key, described from the schema. */
export function addConfigOptions(command: Command, keys: readonly string[]): Command {
  const shape = ServeConfig.shape as Record<string, { description?: string }>;
  for (const key of keys) {
    const env = (SERVE_ENV_NAMES as Record<string, string | undefined>)[key];
    const description = `${shape[key]?.description ?? key}${env ? ` [env ${env}]` : ''}`;
    command.option(`${flagOf(key)} <value>`, description);
  }
  return command;
}

/** Container paths live under $SELECTN_MOUNT_ROOT when the local pod runner sets it. */
export function underMountRoot(config: ServeConfig, root: string | undefined): ServeConfig {
  if (root === undefined || root === '') return config;
  const at = (p: string | undefined): string | undefined => (p === undefined ? p : join(root, p));
  const out: ServeConfig = { ...config, model: join(root, config.model) };
  const token = at(config.controlTokenFile);
  if (token !== undefined) out.controlTokenFile = token;
  const profile = at(config.profileFile);
  if (profile !== undefined) out.profileFile = profile;
  return out;
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('serve a model with an OpenAI-compatible API inside its latency SLO');
  addConfigOptions(command, Object.keys(ServeConfig.shape));
  command.action(async (flags: Record<string, unknown>) => {
    let config;
    try {
      config = parseServeConfig({ flags, env: process.env, envNames: SERVE_ENV_NAMES });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    config = underMountRoot(config, process.env[MOUNT_ROOT_ENV]);
    if (!existsSync(join(config.model, 'config.json'))) {
      throw new UsageError(`--model: ${config.model} is not a model folder (no config.json)`);
    }
    if (config.controlTokenFile !== undefined && !existsSync(config.controlTokenFile)) {
      throw new UsageError(`--control-token-file: ${config.controlTokenFile} does not exist`);
    }
    await ensureNativeAddon({ onProgress: progressToStderr });
    const logger = createLogger({ level: config.logLevel, name: 'selectn-serve' });
    // Loaded here, not at the top: other commands (the operator above all) never pay for them.
    const [
      { DeviceUnavailableError, HostMemoryTooSmallError, productionLoader },
      { startServer },
      { monotonicClock },
    ] = await Promise.all([
      import('../server/bootstrap.ts'),
      import('../server/lifecycle.ts'),
      import('../server/serving.ts'),
    ]);
    const server = await startServer(
      config,
      logger,
      monotonicClock,
      productionLoader(config, logger),
    );
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        void server.shutdown(signal).then(resolve);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    try {
      await server.ready;
    } catch (error) {
      await server.shutdown('start-up failed');
      // The device asked for does not exist on this machine: bad input (exit 2), one line.
      if (error instanceof DeviceUnavailableError || error instanceof HostMemoryTooSmallError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    await stopped;
  });
}
