// `selectn demo`: the README's main job, composed of the other commands and the built binaries.
// Starts the local cluster (building it on first use), installs the operator chart with helm,
// applies examples/tiny-llama.yaml, waits for Ready, sends a chat completion to a serving pod and
// prints `kubectl get sndep` and the plan from status. `--planner-only` runs only the planner part.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { binaryPaths } from '../cluster/build.ts';
import { clusterPaths, DEFAULT_CLUSTER_NAME } from '../cluster/cluster.ts';
import { UsageError } from './errors.ts';

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

/** Runs a built binary against the cluster, echoing its output; throws on failure. */
function tool(binary: string, args: string[], kubeconfig: string, input?: string): string {
  const result = spawnSync(binary, args, {
    encoding: 'utf8',
    input,
    timeout: 300_000,
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      HELM_CACHE_HOME: join(tmpdir(), 'selectn-helm'),
    },
  });
  if (result.status !== 0) {
    throw new Error(`${binary.split('/').pop() ?? binary} ${args.join(' ')}: ${result.stderr}`);
  }
  return result.stdout;
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

/** Builds the native engine on first use: the serving pods load native/build/selectn.node. */
function ensureNativeBuild(): void {
  if (existsSync(join(repoRoot, 'native/build/selectn.node'))) return;
  step('native/scripts/build.sh (builds the engine on first use)');
  const result = spawnSync('bash', [join(repoRoot, 'native/scripts/build.sh')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('native build failed (see its output above)');
}

async function clusterDemo(runCommand: RunCommand, timeoutS: number): Promise<void> {
  ensureNativeBuild();
  step('npm run build (bundles the operator the chart runs: dist/selectn-operator.mjs)');
  const { buildOperatorBundle } = await import('../build/operator-bundle.ts');
  const operatorBundle = await buildOperatorBundle();
  step('selectn cluster up (builds the control plane on first use)');
  await runCommand(['cluster', 'up']);
  const kubeconfig = clusterPaths(DEFAULT_CLUSTER_NAME).kubeconfig;
  const { helm, kubectl } = binaryPaths();

  step(`helm upgrade --install ${release} charts/selectn-operator`);
  const helmOut = tool(
    helm,
    [
      'upgrade',
      '--install',
      release,
      join(repoRoot, 'charts/selectn-operator'),
      '--namespace',
      systemNamespace,
      '--create-namespace',
      '--wait',
      '--timeout',
      `${timeoutS}s`,
      '--set',
      'operator.localRunner=true',
      '--set-string',
      'podLabels.selectn\\.dev/local-runner=true',
      '--set-json',
      `operator.command=${JSON.stringify([process.execPath, operatorBundle, 'operator'])}`,
    ],
    kubeconfig,
  );
  process.stdout.write(helmOut.split('\n').slice(0, 6).join('\n') + '\n');

  step('kubectl apply -f examples/tiny-llama.yaml');
  const manifest = readFileSync(example, 'utf8').replaceAll('__REPO__', repoRoot);
  process.stdout.write(tool(kubectl, ['apply', '-f', '-'], kubeconfig, manifest));

  step(`kubectl wait --for=condition=Ready sndep/${deployment}`);
  process.stdout.write(
    tool(
      kubectl,
      ['wait', '--for=condition=Ready', `sndep/${deployment}`, `--timeout=${timeoutS}s`],
      kubeconfig,
    ),
  );

  step('chat completion from a serving pod');
  const pods = JSON.parse(
    tool(
      kubectl,
      ['get', 'pods', '-l', `serving.selectn.dev/deployment=${deployment}`, '-o', 'json'],
      kubeconfig,
    ),
  ) as { items: PodView[] };
  const ready = pods.items.find((p) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (!ready) throw new Error('no Ready serving pod');
  process.stdout.write((await chat(ready)) + '\n');

  step('kubectl get sndep');
  process.stdout.write(tool(kubectl, ['get', 'sndep'], kubeconfig));
  step('plan from status');
  const plan = tool(
    kubectl,
    ['get', 'sndep', deployment, '-o', 'jsonpath={.status.plan}'],
    kubeconfig,
  );
  process.stdout.write(JSON.stringify(JSON.parse(plan || '{}'), null, 2) + '\n');
  process.stdout.write(
    '\nThe cluster keeps running: `npx selectn kubectl get pods`, `npx selectn cluster down`.\n',
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
