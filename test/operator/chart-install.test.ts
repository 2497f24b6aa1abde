// The chart on a real cluster: its default image is the one `npm run image` builds (the chart's
// appVersion), serving pods follow the chart's image, and the GPU install of the chart's README
// renders (helm template, with the pinned helm once the cluster build made it) and gives pods
// with GPU limits, runtime class, tolerations and pull secrets.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_IMAGE, SelectNDeploymentSchema } from '../../src/api/index.ts';
import { appVersion, IMAGE_REPOSITORY } from '../../src/build/image/build-image.ts';
import { binaryPaths } from '../../src/cluster/build.ts';
import { KUBERNETES_VERSION } from '../../src/cluster/versions.ts';
import { buildPod } from '../../src/operator/pod.ts';
import { computePlan } from '../../src/operator/plan.ts';
import { runCli } from '../cli/run-cli.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(root, 'charts/selectn-operator');
const chartReadme = readFileSync(join(chart, 'README.md'), 'utf8');
const helm = binaryPaths().helm;

interface Container {
  name: string;
  image: string;
  args: string[];
  resources: { limits: Record<string, string> };
}
interface Rendered {
  kind: string;
  spec?: { template?: { spec: { containers: Container[]; imagePullSecrets?: unknown } } };
}

/** Splits a shell command line (words, single-quoted words, backslash-newline continuations). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.replace(/\\\n/g, ' ').matchAll(/'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? '');
  }
  return words;
}

/** The `helm install` of the README's GPU section, as `helm template` arguments. */
function readmeGpuInstall(): string[] {
  const section = chartReadme.slice(chartReadme.indexOf('## Install on a GPU cluster'));
  const command = /^helm install (?:.*\\\n)*.*$/m.exec(section)?.[0];
  if (!command) throw new Error('no helm install command in the GPU section of the chart README');
  const [, , ...args] = shellWords(command);
  return args.map((a) => (a === 'charts/selectn-operator' ? chart : a));
}

function template(args: readonly string[]): Container & { pullSecrets: unknown } {
  const result = spawnSync(helm, ['template', '--kube-version', KUBERNETES_VERSION, ...args], {
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const docs = loadAll(result.stdout) as Rendered[];
  const pod = docs.find((d) => d.kind === 'Deployment')?.spec?.template?.spec;
  const container = pod?.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('no operator container rendered');
  return { ...container, pullSecrets: pod?.imagePullSecrets };
}

describe('chart image', () => {
  it('defaults to the image npm run image builds: the chart appVersion is the package version', () => {
    const chartYaml = load(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as {
      appVersion: string;
    };
    const values = load(readFileSync(join(chart, 'values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
    };
    expect(chartYaml.appVersion).toBe(appVersion());
    expect(values.image).toMatchObject({ repository: IMAGE_REPOSITORY, tag: '' });
    expect(DEFAULT_SERVER_IMAGE).toBe(`${IMAGE_REPOSITORY}:${appVersion()}`);
  });

  it("builds the README's GPU example into pods with GPU limits, runtime class, tolerations, pull secrets", () => {
    const text = readFileSync(join(root, 'examples/gpu-cluster.yaml'), 'utf8');
    const resource = SelectNDeploymentSchema.parse(load(text));
    const owner = {
      name: resource.metadata.name ?? 'llama-3-8b',
      namespace: 'llm',
      uid: 'u1',
      generation: 1,
      spec: resource.spec,
    };
    const plan = computePlan(owner.spec, 1, undefined, new Date('2025-01-01T00:00:00Z'));
    const pod = buildPod(owner, plan, 0, { localRunner: false, serverImage: 'unused:1' });
    const spec = pod.spec as {
      runtimeClassName: string;
      imagePullSecrets: unknown;
      tolerations: unknown;
      nodeSelector: unknown;
      containers: Container[];
    };
    expect(spec.runtimeClassName).toBe('nvidia');
    expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(spec.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-L4' });
    expect(spec.containers[0]?.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(spec.containers[0]?.image).toBe('registry.example.com/selectn/selectn-cuda:0.1.0');
    expect(chartReadme).toContain('examples/gpu-cluster.yaml');
  });

  it('the operator refuses a --server-image that is no image reference, naming the flag', () => {
    const result = runCli(['operator', '--server-image', 'two words']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'selectn: --server-image: expected an image reference, got "two words"\n',
    );
  });

  describe.skipIf(!existsSync(helm))('helm template (pinned helm)', () => {
    it('runs the operator from repository:appVersion and passes that image on to serving pods', () => {
      const image = `${IMAGE_REPOSITORY}:${appVersion()}`;
      const rendered = template(['selectn', chart, '-n', 'selectn-system']);
      expect(rendered.image).toBe(image);
      expect(rendered.args).toContain(`--server-image=${image}`);
      const tagged = template(['selectn', chart, '--set', 'image.tag=0.2.0-rc1']);
      expect(tagged.image).toBe(`${IMAGE_REPOSITORY}:0.2.0-rc1`);
      expect(tagged.args).toContain(`--server-image=${IMAGE_REPOSITORY}:0.2.0-rc1`);
    });

    it("renders the README's GPU install: private registry image and pull secret", () => {
      const rendered = template(readmeGpuInstall());
      expect(rendered.image).toBe(`registry.example.com/selectn/selectn:${appVersion()}`);
      expect(rendered.pullSecrets).toEqual([{ name: 'regcred' }]);
      expect(rendered.args).toContain(
        `--server-image=registry.example.com/selectn/selectn:${appVersion()}`,
      );
    });
  });
});
