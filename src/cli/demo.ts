// `selectn demo`: the README's main job, composed of the other commands and the built binaries.
// Starts the local cluster (building it on first use), installs the operator chart with helm,
// applies examples/tiny-llama.yaml, waits for Ready, sends a chat completion to a serving pod and
// prints `kubectl get sndep` and the plan from status. `--planner-only` runs only the planner part.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ensureBinaries, type BinaryPaths } from '../cluster/build.ts';
import { CLUSTER_BINARIES, clusterPaths, DEFAULT_CLUSTER_NAME } from '../cluster/cluster.ts';
import type { ComponentName } from '../cluster/versions.ts';
import { runTool } from '../process/run-tool.ts';
import { UsageError } from './errors.ts';
import { localToolEnv } from './local-tools.ts';
import { ensureNativeAddon } from './native-addon.ts';

type RunCommand = (argv: readonly string[]) => Promise<void>;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const example = join(repoRoot, 'examples/tiny-llama.yaml');
const release = 'selectn';
const systemNamespace = 'selectn-system';
const deployment = 'tiny-llama';

interface DemoFlags {
  plannerOnly?: boolean;
  timeout: string;
}

const step = (text: string) => {
  process.stdout.write(`\n== ${text}\n`);
};

const progress = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/** Binaries the demo runs itself against the cluster (every call in demoCalls). */
export const DEMO_TOOLS = ['helm', 'kubectl'] as const satisfies readonly ComponentName[];
type DemoTool = (typeof DEMO_TOOLS)[number];

/** Every binary the demo needs: what `cluster up` runs and what the demo runs. All are ensured
 * (built on first use, with progress) before the cluster starts. */
export const DEMO_BINARIES: readonly ComponentName[] = [
  ...new Set<ComponentName>([...CLUSTER_BINARIES, ...DEMO_TOOLS]),
];

export interface DemoToolCall {
  readonly tool: DemoTool;
  readonly args: readonly string[];
  readonly input?: string;
}

export interface DemoContext {
  readonly repoRoot: string;
  /** The bundled operator (dist/selectn-operator.mjs) and the node that runs it. */
  readonly operatorBundle: string;
  readonly node: string;
  readonly timeoutS: number;
}

/** The demo's tool calls, in the order it makes them: the only way the demo runs a binary. */
export function demoCalls(ctx: DemoContext) {
  return {
    install: {
      tool: 'helm',
      args: [
        'upgrade',
        '--install',
        release,
        join(ctx.repoRoot, 'charts/selectn-operator'),
        '--namespace',
        systemNamespace,
        '--create-namespace',
        '--wait',
        '--timeout',
        `${ctx.timeoutS}s`,
        '--set',
        'operator.localRunner=true',
        '--set-string',
        'podLabels.selectn\\.dev/local-runner=true',
        '--set-json',
        `operator.command=${JSON.stringify([ctx.node, ctx.operatorBundle, 'operator'])}`,
      ],
    },
    apply: {
      tool: 'kubectl',
      args: ['apply', '-f', '-'],
      input: readFileSync(example, 'utf8').replaceAll('__REPO__', ctx.repoRoot),
    },
    wait: {
      tool: 'kubectl',
      args: ['wait', '--for=condition=Ready', `sndep/${deployment}`, `--timeout=${ctx.timeoutS}s`],
    },
    pods: {
      tool: 'kubectl',
      args: ['get', 'pods', '-l', `serving.selectn.dev/deployment=${deployment}`, '-o', 'json'],
    },
    // The operator's slow loop: the first telemetry round re-plans the pod from its own measurement.
    measured: {
      tool: 'kubectl',
      args: [
        'wait',
        '--for=jsonpath={.status.pods[0].planBasis}=measured',
        `sndep/${deployment}`,
        `--timeout=${ctx.timeoutS}s`,
      ],
    },
    table: { tool: 'kubectl', args: ['get', 'sndep'] },
    plan: {
      tool: 'kubectl',
      args: ['get', 'sndep', deployment, '-o', 'jsonpath={.status.plan}'],
    },
    podPlans: {
      tool: 'kubectl',
      args: ['get', 'sndep', deployment, '-o', 'jsonpath={.status.pods}'],
    },
  } as const satisfies Record<string, DemoToolCall>;
}

/** Runs one of the demo's calls against the cluster; a failure names the command, its status and
 * its last output lines. */
async function tool(
  bins: Pick<BinaryPaths, DemoTool>,
  call: DemoToolCall,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const options = {
    env,
    timeoutMs: 600_000,
    ...(call.input === undefined ? {} : { input: call.input }),
  };
  const { stdout } = await runTool(bins[call.tool], call.args, options);
  return stdout;
}

async function plannerDemo(runCommand: RunCommand): Promise<void> {
  const model = ['--model', 'llama-13b', '--gpu', 'a100-40gb'];
  const slo = ['--slo-ttft-ms', '2000', '--slo-tpot-ms', '100'];
  step('selectn plan (LLaMA-13B on A100-40GB, TTFT 2 s, TPOT 100 ms)');
  await runCommand(['plan', ...model, ...slo]);
  step('selectn simulate (bursty trace, 300 requests)');
  await runCommand(['simulate', ...model, ...slo, '--trace', 'bursty', '--requests', '300']);
}

interface PodView {
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
  spec?: { containers?: { ports?: { containerPort: number }[] }[] };
}

async function chat(pod: PodView): Promise<string> {
  const ip = pod.status?.podIP;
  const port = pod.spec?.containers?.[0]?.ports?.[0]?.containerPort;
  if (ip === undefined || port === undefined) throw new Error('serving pod has no IP or port');
  const url = `http://${ip}:${port}/v1/chat/completions`;
  process.stdout.write(`POST ${url}\n`);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: deployment,
      messages: [{ role: 'user', content: 'Hello! Who are you?' }],
      max_tokens: 24,
      temperature: 0,
    }),
  });
  const body = (await response.json()) as {
    choices?: { message?: { content?: string } }[];
    usage?: unknown;
  };
  if (!response.ok) throw new Error(`chat completion failed: ${JSON.stringify(body)}`);
  return `answer: ${JSON.stringify(body.choices?.[0]?.message?.content ?? '')}\nusage: ${JSON.stringify(body.usage)}`;
}

async function clusterDemo(runCommand: RunCommand, timeoutS: number): Promise<void> {
  step('native engine (built on first use: the serving pods load native/build/selectn.node)');
  process.stdout.write(`${await ensureNativeAddon({ onProgress: progress })}\n`);
  step(`cluster binaries: ${DEMO_BINARIES.join(', ')} (built on first use, pinned versions)`);
  const bins = await ensureBinaries({
    only: DEMO_BINARIES,
    onProgress: (p) => {
      progress(p.line);
    },
  });
  process.stdout.write('all built\n');
  step('npm run build (bundles the operator the chart runs: dist/selectn-operator.mjs)');
  const { buildOperatorBundle } = await import('../build/operator-bundle.ts');
  const operatorBundle = await buildOperatorBundle();
  step('selectn cluster up');
  await runCommand(['cluster', 'up']);
  const paths = clusterPaths(DEFAULT_CLUSTER_NAME);
  const env = localToolEnv(paths.kubeconfig, paths.state);
  const calls = demoCalls({ repoRoot, operatorBundle, node: process.execPath, timeoutS });

  step(`helm upgrade --install ${release} charts/selectn-operator`);
  const helmOut = await tool(bins, calls.install, env);
  process.stdout.write(helmOut.split('\n').slice(0, 6).join('\n') + '\n');

  step('kubectl apply -f examples/tiny-llama.yaml');
  process.stdout.write(await tool(bins, calls.apply, env));

  step(`kubectl wait --for=condition=Ready sndep/${deployment}`);
  process.stdout.write(await tool(bins, calls.wait, env));

  step('chat completion from a serving pod');
  const pods = JSON.parse(await tool(bins, calls.pods, env)) as { items: PodView[] };
  const ready = pods.items.find((p) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (!ready) throw new Error('no Ready serving pod');
  process.stdout.write((await chat(ready)) + '\n');

  step('operator telemetry loop: the pod re-planned from its own measurement');
  process.stdout.write(await tool(bins, calls.measured, env));
  step('kubectl get sndep');
  process.stdout.write(await tool(bins, calls.table, env));
  step("plan from status (the operator's plan at creation)");
  const plan = await tool(bins, calls.plan, env);
  process.stdout.write(JSON.stringify(JSON.parse(plan || '{}'), null, 2) + '\n');
  step('per-pod status (interval in use, plan in force, SLO attainment)');
  const podPlans = await tool(bins, calls.podPlans, env);
  process.stdout.write(JSON.stringify(JSON.parse(podPlans || '[]'), null, 2) + '\n');
  process.stdout.write(
    '\nThe cluster keeps running: `npx selectn kubectl get pods`, `npx selectn helm list -A`,' +
      ' `npx selectn cluster down`.\n',
  );
}

export function registerDemo(program: Command, runCommand: RunCommand): void {
  program
    .command('demo')
    .description(
      'local cluster + operator + a SelectNDeployment serving a tiny model, a real request, status',
    )
    .option('--planner-only', 'only plan LLaMA-13B on an A100-40GB and compare policies')
    .option('--timeout <s>', 'seconds to wait for the operator and the deployment', '300')
    .action(async (flags: DemoFlags) => {
      const timeoutS = Number(flags.timeout);
      if (!Number.isInteger(timeoutS) || timeoutS <= 0) {
        throw new UsageError(`--timeout: must be a positive integer, got "${flags.timeout}"`);
      }
      if (flags.plannerOnly) {
        await plannerDemo(runCommand);
        return;
      }
      await clusterDemo(runCommand, timeoutS);
      await plannerDemo(runCommand);
    });
}
