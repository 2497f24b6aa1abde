// Entry point of the bundled operator, dist/selectn-operator.mjs (`npm run build`): only the
// `operator` command, so the bundle leaves out the server, the cluster tools and the generated
// API clients of client-node that the operator never calls. That is what the chart runs: it
// starts faster and stays far below the chart's memory limit (bench/README.md, operator scale).
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerOperator } from './operator.ts';
import { UsageError } from './errors.ts';

const program = new Command('selectn-operator').exitOverride();
// With --local-runner, serving pods run the `selectn` CLI of the clone this bundle was built in.
registerOperator(program, {
  cliEntry: fileURLToPath(new URL('../src/cli/selectn.ts', import.meta.url)),
});
for (const command of program.commands) command.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(
      `selectn-operator: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
