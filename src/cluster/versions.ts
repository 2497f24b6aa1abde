// Pinned versions of every binary the local cluster runs, and the wrapper Go module that builds each.
// Changing a version here (and in the matching src/cluster/go/<module>/go.mod) builds a new cache dir.

export const KUBERNETES_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.16';
export const KWOK_VERSION = 'v0.8.0';
export const HELM_VERSION = 'v3.22.0';

export const COMPONENT_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'helm',
] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface ComponentSpec {
  /** Binary name, also the cache folder prefix: ~/.cache/selectn/bin/<name>-<version>/<name>. */
  readonly name: ComponentName;
  readonly version: string;
  /** Folder under src/cluster/go/ holding the wrapper go.mod that pins the module. */
  readonly module: string;
  /** Go package path of the command's main package. */
  readonly pkg: string;
  /** -X flags that stamp the version into the binary (Kubernetes reads them at run time). */
  readonly versionVars: readonly string[];
}

function kubeVersionVars(version: string): string[] {
  const [major, minor] = version.replace(/^v/, '').split('.');
  const vars: string[] = [];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    vars.push(
      `${pkg}.gitVersion=${version}`,
      `${pkg}.gitMajor=${major ?? ''}`,
      `${pkg}.gitMinor=${minor ?? ''}`,
      `${pkg}.gitTreeState=clean`,
      `${pkg}.buildDate=1970-01-01T00:00:00Z`,
    );
  }
  return vars;
}

const kube = (name: ComponentName): ComponentSpec => ({
  name,
  version: KUBERNETES_VERSION,
  module: 'kubernetes',
  pkg: `k8s.io/kubernetes/cmd/${name}`,
  versionVars: kubeVersionVars(KUBERNETES_VERSION),
});

/** Build order: the cluster's critical path first, helm last. */
export const COMPONENTS = [
  {
    name: 'etcd',
    version: ETCD_VERSION,
    module: 'etcd',
    pkg: 'go.etcd.io/etcd/server/v3',
    versionVars: [],
  },
  kube('kube-apiserver'),
  kube('kube-controller-manager'),
  kube('kube-scheduler'),
  kube('kubectl'),
  {
    name: 'kwok',
    version: KWOK_VERSION,
    module: 'kwok',
    pkg: 'sigs.k8s.io/kwok/cmd/kwok',
    versionVars: [],
  },
  {
    name: 'helm',
    version: HELM_VERSION,
    module: 'helm',
    pkg: 'helm.sh/helm/v3/cmd/helm',
    versionVars: [`helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`],
  },
] as const satisfies readonly ComponentSpec[];
