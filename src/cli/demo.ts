// `selectn demo`: the README's main job. Composes other commands; holds no logic of its own.
import type { Command } from 'commander';

type RunCommand = (argv: readonly string[]) => Promise<void>;

const model = ['--model', 'llama-13b', '--gpu', 'a100-40gb'];
const slo = ['--slo-ttft-ms', '2000', '--slo-tpot-ms', '100'];

export function registerDemo(program: Command, runCommand: RunCommand): void {
  program
    .command('demo')
    .description('plan LLaMA-13B on an A100-40GB and compare Select-N with the baseline policies')
    .action(async () => {
      process.stdout.write('== selectn plan (LLaMA-13B on A100-40GB, TTFT 2 s, TPOT 100 ms)\n');
      await runCommand(['plan', ...model, ...slo]);
      process.stdout.write('\n== selectn simulate (bursty trace, 300 requests)\n');
      await runCommand(['simulate', ...model, ...slo, '--trace', 'bursty', '--requests', '300']);
    });
}
