// Volumes of a runner pod, materialized on the host. Every volume becomes a directory under
// <podDir>/volumes/<name>; every volumeMount becomes <podDir>/root/<mountPath>, a symlink to it.
// The process gets SELECTN_MOUNT_ROOT=<podDir>/root and reads "$SELECTN_MOUNT_ROOT/<mountPath>".
// Supported: secret, configMap, emptyDir, hostPath, downwardAPI (fieldRef items) and projected
// (secret, configMap, downwardAPI, serviceAccountToken via the TokenRequest API).
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type {
  V1ConfigMap,
  V1Container,
  V1KeyToPath,
  V1Pod,
  V1Secret,
  V1Volume,
  V1DownwardAPIVolumeFile,
} from '@kubernetes/client-node';
import { ContainerConfigError, fieldValue, type EnvSources } from './env.ts';

export interface VolumeSources extends EnvSources {
  /** A token for the pod's service account, bound to the pod (TokenRequest API). */
  readonly requestToken: (
    pod: V1Pod,
    audience: string | undefined,
    expirationSeconds: number,
  ) => Promise<{ token: string; expiresAt: Date }>;
  /** PEM of the cluster CA, for kube-root-ca.crt when the config map is not there yet. */
  readonly caPem: string;
}

export interface MaterializedVolumes {
  readonly root: string;
  /** Earliest expiry of a projected token; the runner re-materializes before it. */
  readonly refreshAt: Date | undefined;
}

function safeRelative(path: string): string {
  const clean = normalize(path).replace(/^\/+/, '');
  if (clean.startsWith('..'))
    throw new ContainerConfigError(`path ${JSON.stringify(path)} leaves its volume`);
  return clean;
}

function writeFile(
  dir: string,
  path: string,
  content: string | Buffer,
  mode: number | undefined,
): void {
  const file = join(dir, safeRelative(path));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: mode ?? 0o644 });
}

function writeItems(
  dir: string,
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  defaultMode: number | undefined,
  what: string,
): void {
  if (items && items.length > 0) {
    for (const item of items) {
      const value = data[item.key];
      if (value === undefined)
        throw new ContainerConfigError(`key "${item.key}" not found in ${what}`);
      writeFile(dir, item.path, value, item.mode ?? defaultMode);
    }
    return;
  }
  for (const [key, value] of Object.entries(data)) writeFile(dir, key, value, defaultMode);
}

function secretData(secret: V1Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

function configMapData(cm: V1ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

function downwardItems(
  dir: string,
  pod: V1Pod,
  items: V1DownwardAPIVolumeFile[],
  podIP: string,
  mode?: number,
) {
  for (const item of items) {
    if (!item.fieldRef) {
      throw new ContainerConfigError(
        `downwardAPI item ${item.path}: only fieldRef items are supported`,
      );
    }
    writeFile(
      dir,
      item.path,
      fieldValue(pod, item.fieldRef.fieldPath, podIP, '127.0.0.1'),
      item.mode ?? mode,
    );
  }
}

async function materializeVolume(
  dir: string,
  pod: V1Pod,
  volume: V1Volume,
  podIP: string,
  sources: VolumeSources,
): Promise<Date | undefined> {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (volume.emptyDir) {
    mkdirSync(dir, { recursive: true });
    return undefined;
  }
  if (volume.hostPath) return undefined; // linked directly by the mount
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (volume.secret) {
    const secret = await sources.getSecret(namespace, volume.secret.secretName ?? '');
    if (!secret) {
      if (volume.secret.optional) return undefined;
      throw new ContainerConfigError(
        `secret "${volume.secret.secretName ?? ''}" not found (volume ${volume.name})`,
      );
    }
    writeItems(
      dir,
      secretData(secret),
      volume.secret.items,
      volume.secret.defaultMode,
      `secret ${secret.metadata?.name ?? ''}`,
    );
    return undefined;
  }
  if (volume.configMap) {
    const cm = await sources.getConfigMap(namespace, volume.configMap.name ?? '');
    if (!cm) {
      if (volume.configMap.optional) return undefined;
      throw new ContainerConfigError(
        `configmap "${volume.configMap.name ?? ''}" not found (volume ${volume.name})`,
      );
    }
    writeItems(
      dir,
      configMapData(cm),
      volume.configMap.items,
      volume.configMap.defaultMode,
      `configmap ${cm.metadata?.name ?? ''}`,
    );
    return undefined;
  }
  if (volume.downwardAPI) {
    downwardItems(dir, pod, volume.downwardAPI.items ?? [], podIP, volume.downwardAPI.defaultMode);
    return undefined;
  }
  if (volume.projected) {
    let refreshAt: Date | undefined;
    const mode = volume.projected.defaultMode;
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) {
        const sat = source.serviceAccountToken;
        const { token, expiresAt } = await sources.requestToken(
          pod,
          sat.audience,
          sat.expirationSeconds ?? 3600,
        );
        writeFile(dir, sat.path, token, mode ?? 0o600);
        const lifetime = expiresAt.getTime() - Date.now();
        const at = new Date(Date.now() + lifetime * 0.8);
        if (!refreshAt || at < refreshAt) refreshAt = at;
      } else if (source.secret) {
        const secret = await sources.getSecret(namespace, source.secret.name ?? '');
        if (!secret) {
          if (source.secret.optional) continue;
          throw new ContainerConfigError(
            `secret "${source.secret.name ?? ''}" not found (volume ${volume.name})`,
          );
        }
        writeItems(
          dir,
          secretData(secret),
          source.secret.items,
          mode,
          `secret ${source.secret.name ?? ''}`,
        );
      } else if (source.configMap) {
        let cm = await sources.getConfigMap(namespace, source.configMap.name ?? '');
        if (!cm && source.configMap.name === 'kube-root-ca.crt') {
          cm = { data: { 'ca.crt': sources.caPem } };
        }
        if (!cm) {
          if (source.configMap.optional) continue;
          throw new ContainerConfigError(
            `configmap "${source.configMap.name ?? ''}" not found (volume ${volume.name})`,
          );
        }
        writeItems(
          dir,
          configMapData(cm),
          source.configMap.items,
          mode,
          `configmap ${source.configMap.name ?? ''}`,
        );
      } else if (source.downwardAPI) {
        downwardItems(dir, pod, source.downwardAPI.items ?? [], podIP, mode);
      } else {
        throw new ContainerConfigError(`volume ${volume.name}: unsupported projected source`);
      }
    }
    return refreshAt;
  }
  const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
  throw new ContainerConfigError(
    `volume ${volume.name}: type ${kind} is not supported by the local runner (secret, configMap, emptyDir, hostPath, downwardAPI, projected are)`,
  );
}

/** Writes every volume of the pod and links every mount of the containers under <podDir>/root. */
export async function materializeVolumes(
  podDir: string,
  pod: V1Pod,
  containers: readonly V1Container[],
  podIP: string,
  sources: VolumeSources,
): Promise<MaterializedVolumes> {
  const volumesDir = join(podDir, 'volumes');
  const root = join(podDir, 'root');
  mkdirSync(volumesDir, { recursive: true });
  mkdirSync(root, { recursive: true });
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  let refreshAt: Date | undefined;
  for (const volume of volumes.values()) {
    const at = await materializeVolume(join(volumesDir, volume.name), pod, volume, podIP, sources);
    if (at && (!refreshAt || at < refreshAt)) refreshAt = at;
  }
  for (const container of containers) {
    // Parents before nested mounts (e.g. /tmp before /tmp/repo/model), as a kubelet does: a nested
    // mount's link is then created inside its parent's volume instead of being replaced by it.
    const mounts = [...(container.volumeMounts ?? [])].sort(
      (a, b) => mountDepth(a.mountPath) - mountDepth(b.mountPath),
    );
    for (const mount of mounts) {
      const volume = volumes.get(mount.name);
      if (!volume)
        throw new ContainerConfigError(
          `volumeMount ${mount.mountPath}: no volume named "${mount.name}"`,
        );
      const base = volume.hostPath ? volume.hostPath.path : join(volumesDir, volume.name);
      const target = mount.subPath ? join(base, safeRelative(mount.subPath)) : base;
      const link = join(root, safeRelative(mount.mountPath));
      mkdirSync(dirname(link), { recursive: true });
      if (existsSync(link) || isLink(link)) rmSync(link, { recursive: true, force: true });
      symlinkSync(target, link);
    }
  }
  return { root, refreshAt };
}

function mountDepth(mountPath: string): number {
  return mountPath.split('/').filter((part) => part !== '').length;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
