// The engine loop, in process: schedule -> execute -> update, one iteration at a time. The HTTP
// side reaches it only through add/abort/runBetween and per-request sinks, never the engine.
// Control-plane changes (a new plan, a bandwidth budget) run between iterations. Observers get
// one record per iteration (metrics, telemetry) and one per finished request.
import type { Logger } from '../log/logger.ts';
import type { EnginePort, ExecuteResult, RuntimeStatus } from './engine-port.ts';
import type { Clock, Scheduler, SchedulerOutput } from './scheduler/scheduler.ts';
import {
  FinishReason,
  type NewRequest,
  type RequestOutput,
  type SchedRequest,
} from './scheduler/request.ts';

/** How soon an idle loop with waiting requests looks again, milliseconds. */
const RETRY_IDLE_MS = 5;

export interface RequestSink {
  /** Every output of the request; exactly one, the last, carries finishReason. */
  onOutput(output: RequestOutput): void;
}

export interface IterationRecord {
  output: SchedulerOutput;
  result: ExecuteResult;
  startedMs: number;
  endedMs: number;
  waiting: number;
  running: number;
  preemptionsTotal: number;
}

export interface FinishedRecord {
  requestId: string;
  reason: FinishReason;
  arrivalMs: number;
  firstTokenMs: number | undefined;
  finishedMs: number;
  promptTokens: number;
  completionTokens: number;
  preemptions: number;
}

export interface EngineObserver {
  onIteration?(record: IterationRecord): void;
  onFinished?(record: FinishedRecord): void;
}

export class EngineLoop {
  private readonly sinks = new Map<string, RequestSink>();
  private readonly pendingAborts = new Map<string, FinishReason>();
  private readonly between: (() => void)[] = [];
  private readonly observers: EngineObserver[] = [];
  private wake: (() => void) | undefined;
  private active = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly engine: EnginePort;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(engine: EnginePort, scheduler: Scheduler, clock: Clock, log: Logger) {
    this.engine = engine;
    this.scheduler = scheduler;
    this.clock = clock;
    this.log = log;
  }

  observe(observer: EngineObserver): void {
    this.observers.push(observer);
  }

  /** Queues a request; its outputs go to the sink. Throws on invalid input (id, length). */
  add(request: NewRequest, sink: RequestSink): void {
    this.scheduler.addRequest(request);
    this.sinks.set(request.id, sink);
    this.kick();
  }

  /** Ends a request between iterations (client gone, stop string matched); frees its blocks. */
  abort(requestId: string, reason: FinishReason = FinishReason.ABORT): void {
    if (!this.sinks.has(requestId)) return;
    this.pendingAborts.set(requestId, reason);
    this.kick();
  }

  /** Runs fn between iterations (at once if the loop is idle) and resolves with its result. */
  runBetween<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.between.push(() => {
        try {
          resolve(fn());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      if (!this.active) this.applyBetween();
      this.kick();
    });
  }

  get waitingCount(): number {
    return this.scheduler.stats().waiting;
  }

  get runningCount(): number {
    return this.scheduler.stats().running;
  }

  /** Requests added and not yet finished. */
  get inFlight(): number {
    return this.sinks.size;
  }

  status(): RuntimeStatus {
    return this.engine.status();
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.loopDone = this.loop();
  }

  /** Stops after the current iteration; requests still unfinished are aborted. */
  async stop(): Promise<void> {
    this.active = false;
    this.kick();
    await this.loopDone;
    this.applyBetween();
    this.scheduler.finishRequests(this.scheduler.unfinishedIds(), FinishReason.ABORT);
    this.deliverFinished(new Set());
  }

  private isActive(): boolean {
    return this.active;
  }

  private kick(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async loop(): Promise<void> {
    while (this.active) {
      this.applyBetween();
      const pending = this.scheduler.hasUnfinished();
      if (pending && this.engine.refresh) await this.refreshEngine();
      const output = pending ? this.scheduler.schedule(this.engine.status()) : null;
      this.deliverFinished(new Set());
      if (output === null) {
        if (!this.isActive()) break;
        // Nothing could run: sleep until a request or abort arrives, or, while requests wait
        // on the engine (KV room a background switch holds), look again shortly.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (pending) setTimeout(resolve, RETRY_IDLE_MS);
        });
        this.wake = undefined;
        continue;
      }
      await this.step(output);
      // Let the HTTP side run between iterations even when the engine answered at once.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async refreshEngine(): Promise<void> {
    try {
      await this.engine.refresh?.();
    } catch (error) {
      this.log.error({ err: error }, 'engine refresh between iterations failed');
    }
  }

  private applyBetween(): void {
    if (this.pendingAborts.size > 0) {
      for (const [id, reason] of this.pendingAborts) this.scheduler.finishRequests([id], reason);
      this.pendingAborts.clear();
      this.deliverFinished(new Set());
    }
    for (const fn of this.between.splice(0)) fn();
  }

  private async step(output: SchedulerOutput): Promise<void> {
    const startedMs = this.clock.now();
    let result: ExecuteResult;
    try {
      result = await this.engine.execute({ interval: output.interval, seqs: output.seqs });
    } catch (error) {
      // The iteration failed: fail its requests (never silently) and keep serving the others.
      this.log.error({ err: error, iteration: output.iteration }, 'iteration failed');
      this.scheduler.finishRequests(
        output.seqs.map((s) => s.requestId),
        FinishReason.ERROR,
      );
      this.deliverFinished(new Set());
      return;
    }
    const endedMs = this.clock.now();
    const outputs = this.scheduler.updateFromOutput(output, result);
    const stats = this.scheduler.stats();
    const record: IterationRecord = {
      output,
      result,
      startedMs,
      endedMs,
      waiting: stats.waiting,
      running: stats.running,
      preemptionsTotal: stats.preemptionsTotal,
    };
    for (const o of this.observers) o.onIteration?.(record);
    const delivered = new Set<string>();
    for (const out of outputs) {
      const sink = this.sinks.get(out.requestId);
      if (out.finishReason !== undefined) {
        delivered.add(out.requestId);
        this.pendingAborts.delete(out.requestId);
      }
      sink?.onOutput(out);
    }
    this.deliverFinished(delivered);
  }

  /** Reports finished requests; those whose last output was not delivered get a final one. */
  private deliverFinished(delivered: ReadonlySet<string>): void {
    for (const req of this.scheduler.takeFinished()) {
      const reason = req.finishReason ?? FinishReason.ABORT;
      this.report(req, reason);
      const sink = this.sinks.get(req.id);
      this.sinks.delete(req.id);
      if (sink === undefined || delivered.has(req.id)) continue;
      sink.onOutput({
        requestId: req.id,
        newTokenIds: [],
        finishReason: reason,
        promptTokens: req.promptTokenIds.length,
        completionTokens: req.outputTokenIds.length,
      });
    }
  }

  private report(req: SchedRequest, reason: FinishReason): void {
    const record: FinishedRecord = {
      requestId: req.id,
      reason,
      arrivalMs: req.arrivalMs,
      firstTokenMs: req.firstTokenMs,
      finishedMs: req.finishedMs ?? this.clock.now(),
      promptTokens: req.promptTokenIds.length,
      completionTokens: req.outputTokenIds.length,
      preemptions: req.numPreemptions,
    };
    for (const o of this.observers) o.onFinished?.(record);
  }
}
