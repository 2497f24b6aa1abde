// Entry point of the bundled operator, dist/selectn-operator.mjs (`npm run build`): only the
// `operator` command, so the bundle leaves out the server, the cluster tools and the generated
// API clients of client-node that the operator never calls. That is what the chart runs: it
// starts faster and stays far below the chart's memory limit (bench/README.md, operator scale).
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerOperator } from './operator.ts';
import { overrideExits, runProgram } from './run-program.ts';

const program = new Command('selectn-operator').showHelpAfterError('(run with --help for usage)');
// With --local-runner, serving pods run the `selectn` CLI of the clone this bundle was built in.
registerOperator(program, {
  cliEntry: fileURLToPath(new URL('../src/cli/selectn.ts', import.meta.url)),
});
process.exitCode = await runProgram(overrideExits(program), process.argv.slice(2));
