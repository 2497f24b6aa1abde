// `selectn profile`: loads a model on the runtime, times every decoder layer over a grid of batch
// shapes (the same pass `selectn serve` runs at start-up) and writes the planner's profile file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createLogger } from '../log/logger.ts';
import { ConfigError, parseServeConfig } from '../server/config.ts';
import { UsageError } from './errors.ts';
import { ensureNativeAddon } from './native-addon.ts';
import { addConfigOptions, progressToStderr } from './serve.ts';

const KEYS = [
  'model',
  'modelName',
  'device',
  'deviceMemory',
  'threads',
  'maxNumSeqs',
  'maxNumBatchedTokens',
  'maxModelLen',
  'logLevel',
] as const;

export function registerProfile(program: Command): void {
  const command = program
    .command('profile')
    .description(
      'measure per-layer compute time over a grid of batch shapes; write a profile file',
    );
  addConfigOptions(command, KEYS);
  command.requiredOption(
    '--out <file>',
    'profile file to write (JSON, the planner format of src/planner/measured-profile.ts)',
  );
  command.option('--json', 'also print the profile on stdout');
  command.action(async (flags: Record<string, unknown>) => {
    let config;
    try {
      // The SLO plays no part in profiling; the schema wants one.
      config = parseServeConfig({
        flags: { ...flags, sloTtftMs: 1, sloTpotMs: 1 },
        env: {},
        envNames: {},
      });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    if (!existsSync(join(config.model, 'config.json'))) {
      throw new UsageError(`--model: ${config.model} is not a model folder (no config.json)`);
    }
    await ensureNativeAddon({ onProgress: progressToStderr });
    const log = createLogger({ level: config.logLevel, name: 'selectn-profile' });
    const { loadEngine, profileLoaded } = await import('../server/bootstrap.ts');
    const engine = await loadEngine(config, log);
    try {
      const profile = await profileLoaded(engine, config, log);
      const text = `${JSON.stringify(profile, null, 2)}\n`;
      writeFileSync(String(flags['out']), text);
      if (flags['json'] === true) process.stdout.write(text);
      else console.log(`wrote ${profile.points.length} points to ${String(flags['out'])}`);
    } finally {
      await engine.model.close();
      await engine.runtime.close();
    }
  });
}
