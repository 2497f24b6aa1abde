// Every Kubernetes permission the operator uses, and nothing more. The chart's ClusterRole and
// Role are checked against these lists by test/operator/chart.test.ts.

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Cluster-wide: the resources it watches and the objects it owns, in any namespace. */
export const CLUSTER_RULES: readonly RbacRule[] = [
  {
    apiGroups: ['serving.selectn.dev'],
    resources: ['selectndeployments'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['serving.selectn.dev'],
    resources: ['selectndeployments/status'],
    verbs: ['patch'],
  },
  // the SLO autoscaler sets spec.replicas through the scale subresource
  {
    apiGroups: ['serving.selectn.dev'],
    resources: ['selectndeployments/scale'],
    verbs: ['patch'],
  },
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'list', 'watch'] },
  // in-place memory resize of serving pods: the host pool follows the re-derived plan
  { apiGroups: [''], resources: ['pods/resize'], verbs: ['patch'] },
  // server-side apply that may create the Service needs create as well as patch
  { apiGroups: [''], resources: ['services'], verbs: ['create', 'list', 'patch', 'watch'] },
  // get: the telemetry loop reads the control token (the informer caches no Secret data)
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'watch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
];

/** In the operator's own namespace: the leader-election Lease. */
export const LEASE_RULES: readonly RbacRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
];
