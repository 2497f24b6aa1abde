// The `selectn` command: parses arguments and hands off to the components; no logic of its own.
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.ts';
import { registerCommands } from './commands.ts';

export function buildProgram(): Command {
  const program = new Command('selectn')
    .description('Select-N: serve LLMs within latency SLOs with part of the weights in host memory')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program, async (argv) => {
    await buildProgram().parseAsync([...argv], { from: 'user' });
  });
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit code (0 ok, 1 failure, 2 bad input). */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return 0;
      return 2; // commander already printed a one-line message naming the flag
    }
    if (error instanceof UsageError) {
      process.stderr.write(`selectn: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`selectn: ${message}\n`);
    return 1;
  }
}
