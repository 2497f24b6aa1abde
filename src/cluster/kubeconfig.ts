// Kubeconfig files with embedded certificates, one per client identity of the local cluster.
import { readFileSync, writeFileSync } from 'node:fs';
import { dump } from 'js-yaml';

export interface KubeconfigInput {
  readonly clusterName: string;
  readonly server: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly user: string;
}

export function kubeconfigYaml(input: KubeconfigInput): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const context = `${input.user}@${input.clusterName}`;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: input.clusterName,
        cluster: { server: input.server, 'certificate-authority-data': b64(input.caFile) },
      },
    ],
    users: [
      {
        name: input.user,
        user: {
          'client-certificate-data': b64(input.certFile),
          'client-key-data': b64(input.keyFile),
        },
      },
    ],
    contexts: [{ name: context, context: { cluster: input.clusterName, user: input.user } }],
    'current-context': context,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, input: KubeconfigInput): void {
  writeFileSync(path, kubeconfigYaml(input), { mode: 0o600 });
}
