// `selectn operator`: runs the SelectNDeployment controller, in a cluster (in-cluster config)
// or outside it (--kubeconfig / KUBECONFIG / ~/.kube/config).
import type { Command } from 'commander';
import { DEFAULT_SERVER_IMAGE } from '../api/index.ts';
import { createLogger } from '../log/logger.ts';
import { Operator } from '../operator/index.ts';
import { plannerPort } from '../operator/planner-port.ts';
import { UsageError } from './errors.ts';

interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  metricsPort: string;
  metricsHost: string;
  localRunner?: boolean;
  serverImage?: string;
  workers: string;
  resyncSeconds: string;
  telemetrySeconds: string;
  telemetryTimeoutMs: string;
  telemetryConcurrency: string;
}

function int(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag}: expected an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

/** An image reference as a pod's `image` takes it: no spaces, at most 1024 characters. */
function serverImage(value: string): string {
  if (!/^\S{1,1024}$/.test(value))
    throw new UsageError(
      `--server-image: expected an image reference, got ${JSON.stringify(value)}`,
    );
  return value;
}

export interface OperatorCommandOptions {
  /** Script whose `serve` command local-runner pods run (default: the running CLI). */
  cliEntry?: string;
}

export function registerOperator(program: Command, options: OperatorCommandOptions = {}): void {
  const cliEntry = options.cliEntry ?? process.argv[1];
  program
    .command('operator')
    .description('run the SelectNDeployment operator (controller, leader election, metrics)')
    .option(
      '--kubeconfig <file>',
      'kubeconfig to use (default: in-cluster, $KUBECONFIG or ~/.kube/config)',
    )
    .option('--namespace <ns>', 'watch only this namespace (default: all)')
    .option('--leader-elect', 'elect a leader with a Lease so that several replicas can run')
    .option(
      '--lease-namespace <ns>',
      'namespace of the Lease (default: --namespace, $POD_NAMESPACE or default)',
    )
    .option('--metrics-port <port>', 'port of /metrics, /healthz and /readyz', '8080')
    .option('--metrics-host <addr>', 'listen address of the metrics server', '0.0.0.0')
    .option(
      '--local-runner',
      'label pods for the local cluster pod runner (selectn.dev/local-runner)',
    )
    .option(
      '--server-image <ref>',
      `image of serving pods whose SelectNDeployment names none (default ${DEFAULT_SERVER_IMAGE}; the chart passes its own image)`,
    )
    .option('--workers <n>', 'concurrent reconciles (of different resources)', '16')
    .option('--resync-seconds <s>', 'period of the full resync', '300')
    .option('--telemetry-seconds <s>', "period of the pods' telemetry reads", '5')
    .option('--telemetry-timeout-ms <ms>', 'deadline of one telemetry read', '2000')
    .option('--telemetry-concurrency <n>', 'telemetry reads in flight at once', '16')
    .action(async (flags: OperatorFlags) => {
      const log = createLogger({ name: 'selectn-operator' });
      const operator = new Operator({
        kubeconfig: flags.kubeconfig,
        namespace: flags.namespace,
        leaderElect: flags.leaderElect === true,
        leaseNamespace: flags.leaseNamespace,
        metricsPort: int('--metrics-port', flags.metricsPort, 0, 65535),
        metricsHost: flags.metricsHost,
        localRunner: flags.localRunner === true,
        // The local runner starts pods as processes on this machine: run this same CLI.
        ...(flags.localRunner === true && cliEntry !== undefined
          ? { serveCommand: [process.execPath, cliEntry, 'serve'] }
          : {}),
        ...(flags.serverImage === undefined ? {} : { serverImage: serverImage(flags.serverImage) }),
        workers: int('--workers', flags.workers, 1, 64),
        resyncMs: int('--resync-seconds', flags.resyncSeconds, 1, 86_400) * 1000,
        planner: plannerPort(),
        telemetry: {
          periodMs: int('--telemetry-seconds', flags.telemetrySeconds, 1, 3600) * 1000,
          timeoutMs: int('--telemetry-timeout-ms', flags.telemetryTimeoutMs, 100, 60_000),
          concurrency: int('--telemetry-concurrency', flags.telemetryConcurrency, 1, 256),
        },
        log,
      });
      const stop = () => void operator.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await operator.start();
      await operator.stopped;
      if (operator.exitCode !== 0) throw new Error('operator stopped after losing leadership');
    });
}
