// vitest globalSetup. Each test run gets a cluster of its own, named t-<vitest pid>, which the
// first test calling useCluster() (test/cluster/harness.ts) starts. At the end of the run this
// stops it, fails the run if any of its processes (components or pod processes) survived, keeps
// its logs under ~/.cache/selectn/test-logs/ when a test failed, and removes its state.
// Clusters of earlier runs whose vitest died are cleaned up first.
// SELECTN_TEST_CLUSTER=<name> uses (and keeps running) that cluster instead, for fast iteration.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterDown, clusterPaths } from '../../src/cluster/cluster.ts';
import { pidAlive } from '../../src/cluster/lock.ts';
import { cacheRoot } from '../../src/cluster/paths.ts';
import {
  processesMatching,
  readPidFile,
  recordAlive,
  stopRecord,
  type PidRecord,
} from '../../src/cluster/procs.ts';

const RUN_PREFIX = 't-';
const KEEP_LOG_RUNS = 5;

function podPidRecords(podsDir: string): PidRecord[] {
  if (!existsSync(podsDir)) return [];
  const records: PidRecord[] = [];
  for (const entry of readdirSync(podsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const file of readdirSync(join(podsDir, entry.name))) {
      if (!file.endsWith('.pid')) continue;
      const record = readPidFile(join(podsDir, entry.name, file));
      if (record) records.push(record);
    }
  }
  return records;
}

/** Stops and removes clusters of earlier runs whose vitest process is gone. */
async function reapAbandoned(): Promise<void> {
  const root = join(cacheRoot(), 'cluster');
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const pid = Number(name.slice(RUN_PREFIX.length));
    if (!name.startsWith(RUN_PREFIX) || !Number.isInteger(pid) || pidAlive(pid)) continue;
    await clusterDown({ name });
    await clusterDown({ name, purge: true });
  }
}

function keepLogs(name: string): string {
  const paths = clusterPaths(name);
  const root = join(cacheRoot(), 'test-logs');
  const dest = join(root, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}`);
  mkdirSync(dest, { recursive: true });
  if (existsSync(paths.logs)) cpSync(paths.logs, join(dest, 'components'), { recursive: true });
  if (existsSync(paths.pods)) cpSync(paths.pods, join(dest, 'pods'), { recursive: true });
  const runs = readdirSync(root).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - KEEP_LOG_RUNS))) {
    rmSync(join(root, old), { recursive: true, force: true });
  }
  return dest;
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixed = process.env['SELECTN_TEST_CLUSTER'];
  const name = fixed ?? `${RUN_PREFIX}${process.pid}`;
  project.provide('selectnTestCluster', name);
  if (!fixed) await reapAbandoned();
  return async () => {
    const failed = project.vitest.state.getCountOfFailedTests() > 0;
    const paths = clusterPaths(name);
    if (fixed) {
      if (failed) process.stderr.write(`cluster test logs: ${paths.logs} and ${paths.pods}\n`);
      return;
    }
    if (!existsSync(paths.state)) return; // no test used the cluster
    const podProcesses = podPidRecords(paths.pods);
    await clusterDown({ name });
    const leftovers = [
      ...processesMatching(`${paths.state}/`).map((p) => `${p.pid} ${p.cmdline.slice(0, 200)}`),
      ...podProcesses
        .filter((r) => recordAlive(r))
        .map((r) => `${r.pid} (pod process ${r.marker})`),
    ];
    if (failed || leftovers.length > 0) {
      process.stderr.write(`cluster test logs kept in ${keepLogs(name)}\n`);
    }
    for (const r of podProcesses) await stopRecord(r, 1000);
    for (const p of processesMatching(`${paths.state}/`)) {
      await stopRecord({ pid: p.pid, marker: `${paths.state}/`, startedAt: '' }, 1000);
    }
    await clusterDown({ name, purge: true });
    if (leftovers.length > 0) {
      throw new Error(`the test run left processes behind (now killed):\n${leftovers.join('\n')}`);
    }
  };
}
