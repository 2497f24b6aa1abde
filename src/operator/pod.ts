// Builds the objects a SelectNDeployment owns: its serving pods (one per slot, named
// <name>-<template hash>-<slot> so that a retried create can never duplicate a pod), the Service
// that selects its ready pods and the Secret holding the control token.
import { createHash } from 'node:crypto';
import {
  ANNOTATIONS,
  API_VERSION,
  COMPONENT,
  CONTROL_TOKEN_KEY,
  DEFAULT_SERVER_IMAGE,
  KIND,
  LABELS,
  MANAGED_BY,
  POD_PATHS,
  SERVE_ENV,
  SERVE_PATHS,
  formatMillicores,
  quantityToBytes,
  quantityToMillicores,
  type PlanStatus,
  type SelectNDeploymentSpec,
} from '../api/index.ts';
import { planToWire } from './plan.ts';
import { canonicalJson } from './canonical.ts';
import type { KubeObject, OwnerReference, Pod, Secret, Service } from './kube/types.ts';

/** The validated resource the builders work from. */
export interface Owner {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  spec: SelectNDeploymentSpec;
}

export interface PodBuildOptions {
  /** Operator flag: mark every pod for the local cluster's pod runner. */
  localRunner: boolean;
  /**
   * Command of the serving container instead of `selectn serve`; with --local-runner the
   * operator passes its own Node and CLI entry, since the runner starts it as a local process.
   */
  serveCommand?: readonly string[];
  /** Operator flag: server image of deployments that name none (the chart passes its own). */
  serverImage?: string;
}

export const CONTAINER_NAME = 'serve';
export const SERVE_COMMAND = ['selectn', 'serve'] as const;
/** Non-root user of the serving image. */
export const RUN_AS_USER = 65532;

export function ownerReference(owner: Owner): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Labels on everything the deployment owns; also the pods' selector. */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABELS.deployment]: name, [LABELS.component]: COMPONENT };
}

export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function serviceName(owner: { name: string }): string {
  return owner.name;
}

export function secretName(owner: { name: string }): string {
  return `${owner.name}-control`;
}

export function podName(owner: { name: string }, hash: string, slot: number): string {
  return `${owner.name}-${hash}-${slot}`;
}

/** Slot of a pod from its name, or undefined if it does not follow the naming scheme. */
export function slotOf(pod: KubeObject, hash: string | undefined): number | undefined {
  const name = pod.metadata.name ?? '';
  const match = /-([0-9a-z]{8})-([0-9]+)$/.exec(name);
  if (!match || (hash !== undefined && match[1] !== hash)) return undefined;
  return Number(match[2]);
}

function modelMount(owner: Owner): {
  volume: Record<string, unknown>;
  mountPath: string;
  modelPath: string;
} {
  const { source } = owner.spec.model;
  const sub = source.subPath ? `/${source.subPath}` : '';
  if (source.hostPath) {
    // Same path inside as outside, so that the local pod runner's processes see it too.
    const path = source.hostPath.path;
    return {
      volume: { name: 'model', hostPath: { path, type: 'Directory' } },
      mountPath: path,
      modelPath: `${path.replace(/\/$/, '')}${sub}`,
    };
  }
  if (source.pvc) {
    return {
      volume: {
        name: 'model',
        persistentVolumeClaim: { claimName: source.pvc.claimName, readOnly: source.pvc.readOnly },
      },
      mountPath: POD_PATHS.modelDir,
      modelPath: `${POD_PATHS.modelDir}${sub}`,
    };
  }
  if (source.image) {
    return {
      volume: {
        name: 'model',
        image: { reference: source.image.reference, pullPolicy: source.image.pullPolicy },
      },
      mountPath: POD_PATHS.modelDir,
      modelPath: `${POD_PATHS.modelDir}${sub}`,
    };
  }
  throw new Error('model source has none of pvc, hostPath, image (schema should have refused it)');
}

function policyOf(spec: SelectNDeploymentSpec): string {
  if (spec.offload.mode === 'disabled') return 'no-offload';
  if (spec.offload.mode === 'fixed' && spec.offload.interval)
    return `fixed-n-${spec.offload.interval.min}`;
  return 'select-n';
}

/** The SELECTN_* environment of the serving container (see src/api/env.ts). */
export function serveEnv(
  owner: Owner,
  plan: PlanStatus,
  modelPath: string,
): Record<string, unknown>[] {
  const { spec } = owner;
  const value = (key: keyof typeof SERVE_ENV, v: string | number | undefined) =>
    v === undefined ? [] : [{ name: SERVE_ENV[key].name, value: String(v) }];
  const field = (key: keyof typeof SERVE_ENV, fieldPath: string) => ({
    name: SERVE_ENV[key].name,
    valueFrom: { fieldRef: { fieldPath } },
  });
  const sized = (q: number | string | undefined) =>
    q === undefined ? undefined : quantityToBytes(q);
  const hostKnown = plan.basis !== 'fallback' || spec.offload.hostMemoryLimit !== undefined;
  return [
    ...value('model', modelPath),
    ...value('modelName', spec.model.name),
    ...value('sloTtftMs', spec.slo.ttftMs),
    ...value('sloTpotMs', spec.slo.tpotMs),
    ...value('sloPercentile', spec.slo.percentile),
    ...value('device', spec.server.device),
    ...value('dtype', spec.model.dtype),
    ...value('deviceMemory', sized(spec.server.deviceMemory)),
    ...value('copyBandwidth', sized(spec.server.copyBandwidth)),
    ...value('hostMemory', hostKnown ? plan.hostMemoryBytes : undefined),
    ...value('intervalMin', plan.intervalMin ?? undefined),
    ...value(
      'intervalMax',
      plan.intervalMin === null ? undefined : (plan.intervalMax ?? undefined),
    ),
    ...value('layerSelection', spec.offload.layerSelection),
    ...value('policy', policyOf(spec)),
    ...value('port', spec.server.port),
    field('host', 'status.podIP'),
    ...value('controlTokenFile', POD_PATHS.controlTokenFile),
    ...value('maxNumSeqs', spec.server.maxBatchSize),
    ...value('maxModelLen', spec.server.maxModelLen),
    ...value('logLevel', spec.server.logLevel),
    field('podName', 'metadata.name'),
    field('podNamespace', 'metadata.namespace'),
    field('nodeName', 'spec.nodeName'),
    ...value('deployment', owner.name),
  ];
}

/** The pod template (everything but name and template-hash label), and its hash. */
export function podTemplate(
  owner: Owner,
  plan: PlanStatus,
  options: PodBuildOptions,
): { template: Pod; hash: string } {
  const { spec } = owner;
  const model = modelMount(owner);
  const cpu = formatMillicores(quantityToMillicores(spec.resources.cpu));
  const memory = String(plan.podMemoryBytes);
  const resources: Record<string, string> = { cpu, memory };
  if (spec.resources.gpu.count > 0)
    resources[spec.resources.gpu.resourceName] = String(spec.resources.gpu.count);
  const nodeSelector = { ...(spec.template.nodeSelector ?? {}) };
  const labels: Record<string, string> = {
    ...(spec.template.labels ?? {}),
    ...selectorLabels(owner.name),
    [LABELS.managedBy]: MANAGED_BY,
  };
  if (spec.template.localRunner || options.localRunner) labels[LABELS.localRunner] = 'true';
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Always',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 45,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: CONTAINER_NAME,
        image: spec.server.image ?? options.serverImage ?? DEFAULT_SERVER_IMAGE,
        imagePullPolicy: spec.server.imagePullPolicy,
        command: [...(options.serveCommand ?? SERVE_COMMAND)],
        ports: [{ name: 'http', containerPort: spec.server.port, protocol: 'TCP' }],
        env: serveEnv(owner, plan, model.modelPath),
        resources: { requests: resources, limits: resources },
        readinessProbe: probe(SERVE_PATHS.ready, 2, 3),
        livenessProbe: probe(SERVE_PATHS.health, 10, 6),
        securityContext: {
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
        volumeMounts: [
          { name: 'model', mountPath: model.mountPath, readOnly: true },
          { name: 'control', mountPath: POD_PATHS.controlDir, readOnly: true },
          { name: 'tmp', mountPath: POD_PATHS.tmpDir },
        ],
      },
    ],
    volumes: [
      model.volume,
      { name: 'control', secret: { secretName: secretName(owner), defaultMode: 0o440 } },
      { name: 'tmp', emptyDir: {} },
    ],
  };
  if (Object.keys(nodeSelector).length > 0) podSpec['nodeSelector'] = nodeSelector;
  if (spec.template.tolerations?.length) podSpec['tolerations'] = spec.template.tolerations;
  if (spec.template.affinity) podSpec['affinity'] = spec.template.affinity;
  if (spec.template.priorityClassName)
    podSpec['priorityClassName'] = spec.template.priorityClassName;
  if (spec.template.serviceAccountName)
    podSpec['serviceAccountName'] = spec.template.serviceAccountName;
  if (spec.template.runtimeClassName) podSpec['runtimeClassName'] = spec.template.runtimeClassName;
  if (spec.template.imagePullSecrets?.length)
    podSpec['imagePullSecrets'] = spec.template.imagePullSecrets;
  const template: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: owner.namespace,
      labels,
      annotations: { ...(spec.template.annotations ?? {}) },
    },
    spec: podSpec,
  };
  const hash = templateHash(template);
  return { template, hash };
}

/** 8 characters of [0-9a-z] from a SHA-256 of the canonical JSON of the template. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(template)).digest();
  return (digest.readBigUInt64BE(0) % 36n ** 8n).toString(36).padStart(8, '0');
}

/** A complete pod for `slot`. */
export function buildPod(
  owner: Owner,
  plan: PlanStatus,
  slot: number,
  options: PodBuildOptions,
): Pod {
  const { template, hash } = podTemplate(owner, plan, options);
  return {
    ...template,
    metadata: {
      ...template.metadata,
      name: podName(owner, hash, slot),
      labels: { ...template.metadata.labels, [LABELS.templateHash]: hash },
      annotations: {
        ...template.metadata.annotations,
        [ANNOTATIONS.plan]: JSON.stringify(planToWire(plan, owner.spec)),
        [ANNOTATIONS.generation]: String(owner.generation),
      },
      ownerReferences: [ownerReference(owner)],
    },
  };
}

export function buildService(owner: Owner): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName(owner),
      namespace: owner.namespace,
      labels: { ...selectorLabels(owner.name), [LABELS.managedBy]: MANAGED_BY },
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(owner.name),
      ports: [{ name: 'http', port: owner.spec.server.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** The control Secret with a fresh random token (created once; never rewritten). */
export function buildSecret(owner: Owner, token: string): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: secretName(owner),
      namespace: owner.namespace,
      labels: { ...selectorLabels(owner.name), [LABELS.managedBy]: MANAGED_BY },
      ownerReferences: [ownerReference(owner)],
    },
    data: { [CONTROL_TOKEN_KEY]: Buffer.from(token).toString('base64') },
  };
}
