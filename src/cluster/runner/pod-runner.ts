// The local pod runner: runs the containers of pods labelled selectn.dev/local-runner=true that
// are bound to fake nodes as local processes, each pod on its own 127.x.y.z address, and owns
// those pods' status (phase, IPs, conditions, container states, restarts, readiness).
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Container,
  type V1Pod,
  type V1Probe,
} from '@kubernetes/client-node';
import type { Logger } from '../../log/logger.ts';
import { containerArgv, containerEnv, ContainerConfigError, type EnvSources } from './env.ts';
import type { IpPool } from './ip-pool.ts';
import { runProbe } from './probe.ts';
import { admitResize, initialAdmission, type ResizeAdmission } from './resize.ts';
import { backoffMs, kubeTime, podStatusJson, type ContainerState, type PodView } from './status.ts';
import { materializeVolumes, type VolumeSources } from './volumes.ts';

export interface RunnerSettings {
  readonly stateDir: string;
  readonly workdir: string;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly apiserverPort: string;
  readonly hostIP: string;
  /** Variables passed from the runner's own environment to every pod process. */
  readonly inheritEnv: Readonly<Record<string, string>>;
}

type ProbeKind = 'startup' | 'readiness' | 'liveness';

interface ContainerRun {
  readonly spec: V1Container;
  state: ContainerState;
  lastTerminated?: ContainerState & { kind: 'terminated' };
  restartCount: number;
  /** Crashes since the last long run; drives the back-off. */
  crashes: number;
  ready: boolean;
  started: boolean;
  startupDone: boolean;
  child?: ChildProcess;
  pid?: number;
  startedAtMs: number;
  env?: Record<string, string>;
  argv?: string[];
  cwd?: string;
  timers: NodeJS.Timeout[];
  probeBusy: Set<ProbeKind>;
  counts: Record<ProbeKind, { ok: number; fail: number }>;
  killReason?: string;
  willRestart: boolean;
}

/** Read through a function: the state changes while a probe is awaited. */
function isRunning(run: ContainerRun): boolean {
  return run.state.kind === 'running';
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class RunnerPod {
  pod: V1Pod;
  readonly uid: string;
  readonly key: string;
  readonly dir: string;
  ip?: string;
  readonly containers: ContainerRun[];
  readonly startTime = kubeTime(new Date());
  terminating = false;
  deleted = false;
  private retryTimer?: NodeJS.Timeout;
  private refreshTimer?: NodeJS.Timeout;
  private writing = false;
  private dirty = false;
  private lastWritten = '';
  private finalizing = false;
  private admission: ResizeAdmission;
  /** An admission is running; a resize arriving meanwhile is admitted after it (by generation). */
  private admitting = false;

  private readonly runner: PodRunner;

  constructor(pod: V1Pod, runner: PodRunner) {
    this.runner = runner;
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.key = podKey(pod);
    this.admission = initialAdmission(pod);
    this.dir = join(
      runner.settings.stateDir,
      `${pod.metadata?.namespace ?? ''}_${pod.metadata?.name ?? ''}_${this.uid}`,
    );
    const previous = new Map(
      (pod.status?.containerStatuses ?? []).map((s) => [s.name, s.restartCount]),
    );
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({
      spec,
      state: { kind: 'waiting', reason: 'ContainerCreating' },
      // A pod seen again after a runner restart keeps counting restarts.
      restartCount: previous.has(spec.name) ? (previous.get(spec.name) ?? 0) + 1 : 0,
      crashes: 0,
      ready: false,
      started: false,
      startupDone: !spec.startupProbe,
      startedAtMs: 0,
      timers: [],
      probeBusy: new Set(),
      counts: {
        startup: { ok: 0, fail: 0 },
        readiness: { ok: 0, fail: 0 },
        liveness: { ok: 0, fail: 0 },
      },
      willRestart: false,
    }));
  }

  private get log(): Logger {
    return this.runner.log.child({ pod: this.key });
  }

  private get restartPolicy(): string {
    return this.pod.spec?.restartPolicy ?? 'Always';
  }

  get finished(): boolean {
    return this.containers.every((c) => c.state.kind === 'terminated' && !c.willRestart);
  }

  view(): PodView {
    return {
      podIP: this.ip,
      hostIP: this.runner.settings.hostIP,
      startTime: this.startTime,
      finished: this.finished,
      resize: this.admission,
      containers: this.containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image ?? '',
        state: c.state,
        lastTerminated: c.lastTerminated,
        ready: c.ready,
        started: c.started,
        restartCount: c.restartCount,
        pid: c.pid,
      })),
    };
  }

  /** Allocates the IP, writes volumes, resolves env and command, and starts every container. */
  async start(): Promise<void> {
    if (this.terminating) return;
    const previousIP = this.pod.status?.podIP;
    if (!this.ip) {
      this.ip =
        previousIP && this.runner.pool.claim(previousIP) ? previousIP : this.runner.pool.allocate();
    }
    const ip = this.ip;
    try {
      mkdirSync(this.dir, { recursive: true });
      const volumes = await materializeVolumes(
        this.dir,
        this.pod,
        this.containers.map((c) => c.spec),
        ip,
        this.runner.volumeSources,
      );
      if (volumes.refreshAt) this.scheduleRefresh(volumes.refreshAt);
      const base: Record<string, string> = {
        ...this.runner.settings.inheritEnv,
        HOSTNAME: this.pod.metadata?.name ?? '',
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: this.runner.settings.apiserverPort,
        SELECTN_POD_IP: ip,
        SELECTN_POD_NAME: this.pod.metadata?.name ?? '',
        SELECTN_POD_NAMESPACE: this.pod.metadata?.namespace ?? '',
        SELECTN_NODE_NAME: this.pod.spec?.nodeName ?? '',
        SELECTN_MOUNT_ROOT: volumes.root,
      };
      for (const run of this.containers) {
        run.env = await containerEnv(
          this.pod,
          run.spec,
          base,
          ip,
          this.runner.settings.hostIP,
          this.runner.volumeSources,
        );
        run.argv = containerArgv(run.spec, run.env);
        run.cwd = run.spec.workingDir ?? this.runner.settings.workdir;
      }
    } catch (error) {
      const reason =
        error instanceof ContainerConfigError
          ? 'CreateContainerConfigError'
          : 'CreateContainerError';
      this.log.warn({ err: message(error) }, 'pod cannot start yet; retrying');
      for (const run of this.containers)
        run.state = { kind: 'waiting', reason, message: message(error) };
      this.writeStatus();
      this.retryTimer = setTimeout(() => void this.start(), 2000);
      return;
    }
    for (const run of this.containers) this.launch(run);
    this.writeStatus();
  }

  private scheduleRefresh(at: Date): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(
      () => {
        if (this.terminating || !this.ip) return;
        materializeVolumes(
          this.dir,
          this.pod,
          this.containers.map((c) => c.spec),
          this.ip,
          this.runner.volumeSources,
        )
          .then((v) => {
            if (v.refreshAt) this.scheduleRefresh(v.refreshAt);
          })
          .catch((error: unknown) => {
            this.log.warn({ err: message(error) }, 'refreshing projected volumes failed');
            this.scheduleRefresh(new Date(Date.now() + 30_000));
          });
      },
      Math.max(1000, at.getTime() - Date.now()),
    );
  }

  private launch(run: ContainerRun): void {
    if (this.terminating || !run.argv || !run.env || !run.cwd) return;
    const [file, ...args] = run.argv;
    const logPath = join(this.dir, `${run.spec.name}.log`);
    const fd = openSync(logPath, 'a');
    writeSync(
      fd,
      `--- selectn local runner: start #${run.restartCount} of ${run.spec.name} at ${new Date().toISOString()}: ${run.argv.join(' ')}\n`,
    );
    let child: ChildProcess;
    try {
      child = spawn(file ?? '', args, {
        cwd: run.cwd,
        env: run.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } catch (error) {
      closeSync(fd);
      this.onExit(run, 128, null, `StartError`, message(error), kubeTime(new Date()));
      return;
    }
    closeSync(fd);
    const startedAt = kubeTime(new Date());
    run.child = child;
    run.killReason = undefined;
    run.willRestart = false;
    child.once('error', (error) => {
      // ENOENT and friends: the process never ran.
      if (run.child !== child) return;
      this.onExit(run, 128, null, 'StartError', message(error), startedAt);
    });
    if (child.pid === undefined) return; // 'error' follows
    run.pid = child.pid;
    run.startedAtMs = Date.now();
    run.state = { kind: 'running', startedAt };
    run.started = run.startupDone;
    run.ready = run.startupDone && !run.spec.readinessProbe;
    writeFileSync(
      join(this.dir, `${run.spec.name}.pid`),
      JSON.stringify({ pid: child.pid, marker: file ?? '', startedAt: new Date().toISOString() }) +
        '\n',
    );
    this.log.info(
      { container: run.spec.name, pid: child.pid, ip: this.ip },
      'container process started',
    );
    child.once('exit', (code, signal) => {
      if (run.child !== child) return;
      const reason = run.killReason ?? (code === 0 ? 'Completed' : 'Error');
      const exitCode = code ?? 128 + signalNumber(signal);
      this.onExit(run, exitCode, signal, reason, undefined, startedAt);
    });
    this.startProbes(run);
  }

  private onExit(
    run: ContainerRun,
    exitCode: number,
    signal: NodeJS.Signals | null,
    reason: string,
    detail: string | undefined,
    startedAt: string,
  ): void {
    this.stopProbes(run);
    run.child = undefined;
    rmSync(join(this.dir, `${run.spec.name}.pid`), { force: true });
    const ranMs = run.startedAtMs ? Date.now() - run.startedAtMs : 0;
    run.pid = undefined;
    run.ready = false;
    run.state = {
      kind: 'terminated',
      exitCode,
      ...(signal ? { signal } : {}),
      reason,
      ...(detail ? { message: detail } : {}),
      startedAt,
      finishedAt: kubeTime(new Date()),
    };
    this.log.info(
      { container: run.spec.name, exitCode, signal, reason },
      'container process exited',
    );
    if (this.terminating) {
      this.maybeFinalize();
      this.writeStatus();
      return;
    }
    const policy = this.restartPolicy;
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      this.writeStatus();
      return;
    }
    const stableMs = Math.min(600_000, 2 * this.runner.settings.backoffMaxMs);
    run.crashes = ranMs >= stableMs ? 1 : run.crashes + 1;
    const delay = backoffMs(
      run.crashes - 1,
      this.runner.settings.backoffBaseMs,
      this.runner.settings.backoffMaxMs,
    );
    run.lastTerminated = run.state;
    run.willRestart = true;
    if (delay > 0) {
      run.state = {
        kind: 'waiting',
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${run.spec.name} pod=${this.pod.metadata?.name ?? ''}_${this.pod.metadata?.namespace ?? ''}(${this.uid})`,
      };
    }
    this.writeStatus();
    run.timers.push(
      setTimeout(() => {
        if (this.terminating) return;
        run.restartCount += 1;
        this.launch(run);
        this.writeStatus();
      }, delay),
    );
  }

  private startProbes(run: ContainerRun): void {
    const kinds: [ProbeKind, V1Probe | undefined][] = [
      ['startup', run.spec.startupProbe],
      ['readiness', run.spec.readinessProbe],
      ['liveness', run.spec.livenessProbe],
    ];
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      run.counts[kind] = { ok: 0, fail: 0 };
      const periodMs = (probe.periodSeconds ?? 10) * 1000;
      const first = setTimeout(
        () => {
          void this.probeOnce(run, kind, probe);
          run.timers.push(setInterval(() => void this.probeOnce(run, kind, probe), periodMs));
        },
        (probe.initialDelaySeconds ?? 0) * 1000,
      );
      run.timers.push(first);
    }
  }

  private stopProbes(run: ContainerRun): void {
    for (const timer of run.timers) clearTimeout(timer);
    run.timers = [];
  }

  private async probeOnce(run: ContainerRun, kind: ProbeKind, probe: V1Probe): Promise<void> {
    if (run.state.kind !== 'running' || run.probeBusy.has(kind) || this.terminating || !this.ip)
      return;
    if (kind !== 'startup' && !run.startupDone) return;
    if (kind === 'startup' && run.startupDone) return;
    run.probeBusy.add(kind);
    const child = run.child;
    try {
      const result = await runProbe(
        probe,
        run.spec,
        this.ip,
        run.env ?? {},
        run.cwd ?? this.runner.settings.workdir,
      );
      if (run.child !== child || !isRunning(run)) return;
      const counts = run.counts[kind];
      if (result.ok) {
        counts.ok += 1;
        counts.fail = 0;
      } else {
        counts.fail += 1;
        counts.ok = 0;
      }
      const successThreshold = probe.successThreshold ?? 1;
      const failureThreshold = probe.failureThreshold ?? 3;
      if (kind === 'readiness') {
        const ready = result.ok
          ? counts.ok >= successThreshold || run.ready
          : counts.fail < failureThreshold && run.ready;
        if (ready !== run.ready) {
          run.ready = ready;
          this.log.info(
            { container: run.spec.name, ready, probe: result.message },
            'readiness changed',
          );
          this.writeStatus();
        }
      } else if (kind === 'startup') {
        if (result.ok && counts.ok >= successThreshold) {
          run.startupDone = true;
          run.started = true;
          run.ready = !run.spec.readinessProbe;
          this.writeStatus();
        } else if (!result.ok && counts.fail >= failureThreshold) {
          this.killContainer(run, 'StartupProbeFailed', `Startup probe failed: ${result.message}`);
        }
      } else if (!result.ok && counts.fail >= failureThreshold) {
        this.killContainer(run, 'LivenessProbeFailed', `Liveness probe failed: ${result.message}`);
      }
    } finally {
      run.probeBusy.delete(kind);
    }
  }

  private graceMs(): number {
    const seconds =
      this.pod.metadata?.deletionGracePeriodSeconds ??
      this.pod.spec?.terminationGracePeriodSeconds ??
      30;
    return Math.max(0, seconds) * 1000;
  }

  private killContainer(
    run: ContainerRun,
    reason: string,
    detail: string,
    graceMs = this.graceMs(),
  ): void {
    const pid = run.pid;
    if (pid === undefined || !run.child) return;
    run.killReason =
      reason === 'StartupProbeFailed' || reason === 'LivenessProbeFailed' ? 'Error' : reason;
    this.log.info({ container: run.spec.name, reason, detail }, 'stopping container process');
    signalGroup(pid, 'SIGTERM');
    const child = run.child;
    const timer = setTimeout(() => {
      if (run.child === child) signalGroup(pid, 'SIGKILL');
    }, graceMs);
    timer.unref();
  }

  /** Graceful deletion: SIGTERM every container, SIGKILL after the grace period, then delete the pod. */
  terminate(graceMs = this.graceMs()): void {
    if (!this.terminating) {
      this.terminating = true;
      clearTimeout(this.retryTimer);
      clearTimeout(this.refreshTimer);
      for (const run of this.containers) {
        this.stopProbes(run);
        run.willRestart = false;
        if (run.child) this.killContainer(run, 'Killing', 'pod deleted', graceMs);
        else if (run.state.kind === 'waiting') {
          run.state = {
            kind: 'terminated',
            exitCode: 0,
            reason: 'Completed',
            startedAt: this.startTime,
            finishedAt: kubeTime(new Date()),
          };
        }
      }
    }
    this.maybeFinalize();
  }

  /** Stops all processes now (runner shutdown); leaves the API object alone. */
  async shutdown(graceMs: number): Promise<void> {
    this.terminating = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    const exits: Promise<void>[] = [];
    for (const run of this.containers) {
      this.stopProbes(run);
      const child = run.child;
      if (!child) continue;
      exits.push(
        new Promise((resolve) => {
          child.once('exit', () => {
            resolve();
          });
        }),
      );
      this.killContainer(run, 'Killing', 'runner stopping', graceMs);
    }
    await Promise.all(exits);
  }

  private maybeFinalize(): void {
    if (this.finalizing || this.containers.some((c) => c.child)) return;
    this.finalizing = true;
    rmSync(join(this.dir, 'volumes'), { recursive: true, force: true });
    rmSync(join(this.dir, 'root'), { recursive: true, force: true });
    if (this.ip) this.runner.pool.release(this.ip);
    this.runner.forget(this);
    if (this.deleted) return;
    const { name = '', namespace = '' } = this.pod.metadata ?? {};
    this.runner.api
      .deleteNamespacedPod({
        name,
        namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      })
      .then(() => {
        this.log.info('pod deleted after its processes stopped');
      })
      .catch((error: unknown) => {
        if (!message(error).includes('404'))
          this.log.warn({ err: message(error) }, 'final pod delete failed');
      });
  }

  /**
   * Admits an in-place resize as a kubelet does: against the node's allocatable memory and the
   * memory requests of its other pods (PodResizePending/Infeasible when it does not fit).
   */
  admitResize(): void {
    if (this.admitting) return;
    this.admitting = true;
    void (async () => {
      try {
        let generation: number | undefined;
        do {
          generation = this.pod.metadata?.generation;
          const nodeName = this.pod.spec?.nodeName ?? '';
          const [node, list] = await Promise.all([
            this.runner.api.readNode({ name: nodeName }),
            this.runner.api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }),
          ]);
          const others = list.items.filter(
            (p) =>
              p.metadata?.uid !== this.uid &&
              p.status?.phase !== 'Succeeded' &&
              p.status?.phase !== 'Failed',
          );
          this.admission = admitResize(this.pod, node, others, this.admission);
          this.log.info(
            { generation, pending: this.admission.pending?.message },
            this.admission.pending ? 'resize not admitted' : 'resize applied',
          );
          this.writeStatus();
        } while (this.pod.metadata?.generation !== generation && !this.deleted);
      } catch (error) {
        // The node or its pods could not be read: applied at once, as before admission existed.
        this.log.warn({ err: message(error) }, 'resize admission failed; applying the resize');
        this.admission = initialAdmission(this.pod);
        this.writeStatus();
      } finally {
        this.admitting = false;
      }
    })();
  }

  /** Coalesced status writer: at most one request in flight, the latest state wins. */
  writeStatus(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = true;
    void (async () => {
      try {
        while (this.dirty && !this.deleted) {
          this.dirty = false;
          const status = podStatusJson(this.pod, this.view(), new Date());
          const text = JSON.stringify(status);
          if (text === this.lastWritten) continue;
          const { name = '', namespace = '' } = this.pod.metadata ?? {};
          try {
            const updated = await this.runner.api.patchNamespacedPodStatus(
              { name, namespace, body: { status } },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            );
            this.lastWritten = text;
            this.pod = { ...this.pod, status: updated.status };
          } catch (error) {
            const text2 = message(error);
            if (text2.includes('404')) return;
            this.log.warn({ err: text2.slice(0, 300) }, 'status write failed; retrying');
            await new Promise((r) => setTimeout(r, 500));
            this.dirty = true;
          }
        }
      } finally {
        this.writing = false;
      }
    })();
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGSEGV: 11,
    SIGABRT: 6,
  };
  return signal ? (numbers[signal] ?? 0) : 0;
}

export class PodRunner {
  private readonly pods = new Map<string, RunnerPod>();
  readonly volumeSources: VolumeSources;

  readonly api: CoreV1Api;
  readonly pool: IpPool;
  readonly settings: RunnerSettings;
  readonly log: Logger;

  constructor(api: CoreV1Api, pool: IpPool, settings: RunnerSettings, log: Logger, caPem: string) {
    this.api = api;
    this.pool = pool;
    this.settings = settings;
    this.log = log;
    const sources: EnvSources = {
      getSecret: async (namespace, name) => {
        try {
          return await api.readNamespacedSecret({ name, namespace });
        } catch (error) {
          if (message(error).includes('404')) return undefined;
          throw error;
        }
      },
      getConfigMap: async (namespace, name) => {
        try {
          return await api.readNamespacedConfigMap({ name, namespace });
        } catch (error) {
          if (message(error).includes('404')) return undefined;
          throw error;
        }
      },
    };
    this.volumeSources = {
      ...sources,
      caPem,
      requestToken: async (pod, audience, expirationSeconds) => {
        const result = await api.createNamespacedServiceAccountToken({
          name: pod.spec?.serviceAccountName ?? 'default',
          namespace: pod.metadata?.namespace ?? 'default',
          body: {
            spec: {
              audiences: audience ? [audience] : [],
              expirationSeconds,
              boundObjectRef: {
                apiVersion: 'v1',
                kind: 'Pod',
                name: pod.metadata?.name,
                uid: pod.metadata?.uid,
              },
            },
          },
        });
        const expires = result.status?.expirationTimestamp;
        return {
          token: result.status?.token ?? '',
          expiresAt: expires ? new Date(expires) : new Date(Date.now() + expirationSeconds * 1000),
        };
      },
    };
  }

  /** Handles an added or updated pod (level-based: only the pod's current state matters). */
  onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || !pod.spec?.nodeName) return;
    let entry = this.pods.get(uid);
    if (!entry) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') {
        // Finished before we saw it (runner restart): nothing to run; finish a pending deletion.
        if (pod.metadata?.deletionTimestamp) this.deleteNow(pod);
        return;
      }
      entry = new RunnerPod(pod, this);
      this.pods.set(uid, entry);
      if (pod.metadata?.deletionTimestamp) {
        entry.terminate();
        return;
      }
      void entry.start();
      return;
    }
    const resized = pod.metadata?.generation !== entry.pod.metadata?.generation;
    entry.pod = { ...pod, status: pod.status };
    if (pod.metadata?.deletionTimestamp) entry.terminate();
    else if (resized) entry.admitResize();
  }

  /** The pod is gone from the API (force delete or our own final delete). */
  onDelete(pod: V1Pod): void {
    const entry = this.pods.get(pod.metadata?.uid ?? '');
    if (!entry) return;
    entry.deleted = true;
    entry.terminate(Math.min(2000, (pod.metadata?.deletionGracePeriodSeconds ?? 2) * 1000));
  }

  forget(entry: RunnerPod): void {
    this.pods.delete(entry.uid);
  }

  private deleteNow(pod: V1Pod): void {
    const { name = '', namespace = '', uid } = pod.metadata ?? {};
    this.api
      .deleteNamespacedPod({
        name,
        namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      })
      .catch(() => undefined);
  }

  get size(): number {
    return this.pods.size;
  }

  async shutdown(graceMs: number): Promise<void> {
    await Promise.all([...this.pods.values()].map((p) => p.shutdown(graceMs)));
  }
}
