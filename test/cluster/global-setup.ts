// vitest globalSetup: the test cluster is started lazily by the first test that calls
// useCluster() (test/cluster/harness.ts); at the end of the run this stops it if it runs, fails
// the run if any of its processes (components or pod processes) survived, and points at the logs
// when a test failed. Set SELECTN_TEST_KEEP_CLUSTER=1 to leave it running for the next run.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterDown, clusterPaths, clusterStatus } from '../../src/cluster/cluster.ts';
import {
  processesMatching,
  readPidFile,
  recordAlive,
  stopRecord,
  type PidRecord,
} from '../../src/cluster/procs.ts';
import { TEST_CLUSTER_NAME } from './harness.ts';

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

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const paths = clusterPaths(TEST_CLUSTER_NAME);
  const status = await clusterStatus({ name: TEST_CLUSTER_NAME });
  const wasRunning = status.components.some((c) => c.running);
  if (!wasRunning && existsSync(paths.logs)) {
    // Keep the previous run's logs one run longer, then start fresh.
    rmSync(`${paths.logs}.previous`, { recursive: true, force: true });
    renameSync(paths.logs, `${paths.logs}.previous`);
  }
  return async () => {
    const failed = project.vitest.state.getCountOfFailedTests() > 0;
    const keep = process.env['SELECTN_TEST_KEEP_CLUSTER'] === '1';
    if (keep) {
      if (failed) process.stderr.write(`cluster test logs: ${paths.logs} and ${paths.pods}\n`);
      return;
    }
    const podProcesses = podPidRecords(paths.pods);
    await clusterDown({ name: TEST_CLUSTER_NAME });
    const leftovers = [
      ...processesMatching(paths.state).map((p) => `${p.pid} ${p.cmdline.slice(0, 200)}`),
      ...podProcesses
        .filter((r) => recordAlive(r))
        .map((r) => `${r.pid} (pod process ${r.marker})`),
    ];
    if (failed || leftovers.length > 0) {
      process.stderr.write(
        `cluster test logs kept in ${paths.logs} (components) and ${paths.pods} (pod processes)\n`,
      );
    }
    if (leftovers.length > 0) {
      for (const r of podProcesses) await stopRecord(r, 1000);
      for (const p of processesMatching(paths.state))
        await stopRecord({ pid: p.pid, marker: paths.state, startedAt: '' }, 1000);
      throw new Error(`the test run left processes behind (now killed):\n${leftovers.join('\n')}`);
    }
  };
}
