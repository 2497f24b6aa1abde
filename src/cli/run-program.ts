// Runs a commander program and maps the outcome to the process exit code: 0 ok (help and version
// included), 1 failure, 2 bad input (commander has already printed a line naming the flag, or a
// UsageError says what is wrong), or a passed-through tool's own status (ToolExit). Shared by
// `selectn` and the bundled `selectn-operator`.
import { CommanderError, type Command } from 'commander';
import { ToolExit, UsageError } from './errors.ts';

/** Makes the program and all its subcommands throw instead of exiting the process. */
export function overrideExits(program: Command): Command {
  program.exitOverride();
  for (const command of program.commands) overrideExits(command);
  return program;
}

export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return 0;
      return 2; // commander already printed a one-line message naming the flag
    }
    if (error instanceof ToolExit) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${program.name()}: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
