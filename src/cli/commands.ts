// Every subcommand is registered here; each lives in its own file next to this one.
import type { Command } from 'commander';
import { registerCrd } from './crd.ts';
import { registerOperator } from './operator.ts';
import { registerCluster } from './cluster.ts';
import { registerLocalTools } from './local-tools.ts';
import { registerPlan } from './plan.ts';
import { registerSimulate } from './simulate.ts';
import { registerServe } from './serve.ts';
import { registerProfile } from './profile.ts';
import { registerDemo } from './demo.ts';

type Register = (program: Command) => void;

const commands: Register[] = [
  registerPlan,
  registerSimulate,
  registerCluster,
  registerLocalTools,
  registerCrd,
  registerOperator,
  registerServe,
  registerProfile,
];

/** Registers every subcommand; `runCommand` lets composite commands (demo) run others. */
export function registerCommands(
  program: Command,
  runCommand: (argv: readonly string[]) => Promise<void>,
): void {
  for (const register of commands) register(program);
  registerDemo(program, runCommand);
}
