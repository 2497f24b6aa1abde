// One probe attempt (httpGet, tcpSocket or exec) against a runner pod, as the kubelet runs it.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export interface ProbeResult {
  readonly ok: boolean;
  readonly message: string;
}

/** Resolves a probe port (number, numeric string or a named container port). */
export function resolvePort(port: number | string, container: V1Container): number {
  if (typeof port === 'number') return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named)
    throw new Error(`probe port "${port}" is not a named port of container ${container.name}`);
  return named.containerPort;
}

function httpProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const get = probe.httpGet;
  if (!get) return Promise.resolve({ ok: false, message: 'no httpGet' });
  const port = resolvePort(get.port, container);
  const https = get.scheme === 'HTTPS';
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/selectn-local-runner' };
  for (const h of get.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: get.host ?? podIP,
        port,
        path: get.path ?? '/',
        method: 'GET',
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 400;
        resolve({
          ok,
          message: ok ? `HTTP ${status}` : `HTTP probe failed with statuscode: ${status}`,
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => {
      resolve({
        ok: false,
        message: `Get "http://${get.host ?? podIP}:${port}${get.path ?? '/'}": ${error.message}`,
      });
    });
    req.end();
  });
}

function tcpProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const tcp = probe.tcpSocket;
  if (!tcp) return Promise.resolve({ ok: false, message: 'no tcpSocket' });
  const port = resolvePort(tcp.port, container);
  return new Promise((resolve) => {
    const socket = connect({ host: tcp.host ?? podIP, port, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${podIP}:${port}: timeout` });
    });
    socket.on('error', (error) => {
      resolve({ ok: false, message: `dial tcp ${podIP}:${port}: ${error.message}` });
    });
  });
}

function execProbe(
  probe: V1Probe,
  env: Readonly<Record<string, string>>,
  cwd: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const command = probe.exec?.command ?? [];
  const [file, ...args] = command;
  if (!file) return Promise.resolve({ ok: false, message: 'exec probe without command' });
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env,
      cwd,
      stdio: 'ignore',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    child.on('error', (error) => {
      resolve({ ok: false, message: error.message });
    });
    child.on('close', (code, signal) => {
      resolve({
        ok: code === 0,
        message: signal ? `killed by ${signal}` : `command exited with ${code ?? -1}`,
      });
    });
  });
}

export function runProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  env: Readonly<Record<string, string>>,
  cwd: string,
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) return httpProbe(probe, container, podIP, timeoutMs);
    if (probe.tcpSocket) return tcpProbe(probe, container, podIP, timeoutMs);
    if (probe.exec) return execProbe(probe, env, cwd, timeoutMs);
  } catch (error) {
    return Promise.resolve({
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  return Promise.resolve({
    ok: false,
    message: 'probe type not supported by the local runner (grpc)',
  });
}
