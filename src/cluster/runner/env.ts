// A container's environment as the kubelet would build it: literal values, $(VAR) references,
// fieldRef (pod name, namespace, uid, IPs, node, labels, annotations), secretKeyRef,
// configMapKeyRef, envFrom secrets and config maps. resourceFieldRef is not supported.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';

export interface EnvSources {
  readonly getSecret: (namespace: string, name: string) => Promise<V1Secret | undefined>;
  readonly getConfigMap: (namespace: string, name: string) => Promise<V1ConfigMap | undefined>;
}

/** A problem that keeps the container from starting (kubelet: CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** Expands $(NAME) from env; $$(NAME) escapes to $(NAME); unknown references stay as written. */
export function expandReferences(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g,
    (match, name: string | undefined) => {
      if (match === '$$') return '$';
      if (name !== undefined && Object.hasOwn(env, name)) return env[name] ?? '';
      return match;
    },
  );
}

function labelValue(map: Record<string, string> | undefined, key: string): string {
  return map?.[key] ?? '';
}

/** The value of a downward-API field path for this pod, as the kubelet resolves it. */
export function fieldValue(pod: V1Pod, fieldPath: string, podIP: string, hostIP: string): string {
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sub) return labelValue(sub[1] === 'labels' ? meta.labels : meta.annotations, sub[2] ?? '');
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return Object.entries(meta.labels ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'metadata.annotations':
      return Object.entries(meta.annotations ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(fieldPath)}`);
  }
}

function decodeSecret(secret: V1Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

/**
 * Builds the environment of one container: base (host basics and SELECTN_* variables) first,
 * then envFrom, then env in order with $(VAR) expansion against what came before.
 */
export async function containerEnv(
  pod: V1Pod,
  container: V1Container,
  base: Readonly<Record<string, string>>,
  podIP: string,
  hostIP: string,
  sources: EnvSources,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.secretRef) {
      const secret = await sources.getSecret(namespace, from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name ?? ''}" not found`);
      }
      for (const key of Object.keys({ ...secret.data, ...secret.stringData })) {
        env[prefix + key] = decodeSecret(secret, key) ?? '';
      }
    } else if (from.configMapRef) {
      const cm = await sources.getConfigMap(namespace, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name ?? ''}" not found`);
      }
      for (const [key, value] of Object.entries(cm.data ?? {})) env[prefix + key] = value;
    }
  }
  for (const item of container.env ?? []) {
    if (item.value !== undefined) {
      env[item.name] = expandReferences(item.value, env);
      continue;
    }
    const from = item.valueFrom;
    if (!from) {
      env[item.name] = '';
    } else if (from.fieldRef) {
      env[item.name] = fieldValue(pod, from.fieldRef.fieldPath, podIP, hostIP);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const secret = await sources.getSecret(namespace, ref.name ?? '');
      const value = secret ? decodeSecret(secret, ref.key) : undefined;
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          secret
            ? `key "${ref.key}" not found in secret "${ref.name ?? ''}"`
            : `secret "${ref.name ?? ''}" not found`,
        );
      }
      env[item.name] = value;
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const cm = await sources.getConfigMap(namespace, ref.name ?? '');
      const value = cm?.data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          cm
            ? `key "${ref.key}" not found in configmap "${ref.name ?? ''}"`
            : `configmap "${ref.name ?? ''}" not found`,
        );
      }
      env[item.name] = value;
    } else {
      throw new ContainerConfigError(
        `env ${item.name}: only value, fieldRef, secretKeyRef and configMapKeyRef are supported`,
      );
    }
  }
  return env;
}

/** command + args with $(VAR) expanded; a container without command cannot run (there is no image). */
export function containerArgv(
  container: V1Container,
  env: Readonly<Record<string, string>>,
): string[] {
  const command = container.command ?? [];
  if (command.length === 0) {
    throw new ContainerConfigError(
      `container "${container.name}" has no command; the local runner starts command+args (images are not run)`,
    );
  }
  return [...command, ...(container.args ?? [])].map((part) => expandReferences(part, env));
}
