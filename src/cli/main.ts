// The `selectn` command: parses arguments and hands off to the components; no logic of its own.
import { Command } from 'commander';
import { registerCommands } from './commands.ts';
import { overrideExits, runProgram } from './run-program.ts';

export function buildProgram(): Command {
  const program = new Command('selectn')
    .description('Select-N: serve LLMs within latency SLOs with part of the weights in host memory')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program, async (argv) => {
    await buildProgram().parseAsync([...argv], { from: 'user' });
  });
  return overrideExits(program);
}

/** Runs the CLI and returns the process exit code (0 ok, 1 failure, 2 bad input). */
export function run(argv: readonly string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
