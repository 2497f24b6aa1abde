// An informer: client-node's ListWatch (list, then watch from the resourceVersion; relist on
// 410) wrapped so that it recovers: when ListWatch stops on an error, it is restarted with capped
// exponential backoff. Handlers get typed events and only enqueue keys. Synced once the first
// list has landed.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log/logger.ts';
import type { Clock } from '../queue.ts';
import type { KubeObject, ObjectList } from './types.ts';

export const INFORMER_EVENTS = { Add: 'add', Update: 'update', Delete: 'delete' } as const;
export type InformerEvent = (typeof INFORMER_EVENTS)[keyof typeof INFORMER_EVENTS];

export interface InformerOptions<T extends KubeObject> {
  resource: string;
  path: string;
  /** Lists the collection, handing each item through `trim` (the informer's transform). */
  list: (trim: (obj: T) => T) => Promise<ObjectList<T>>;
  labelSelector?: string;
  onEvent: (event: InformerEvent, obj: T) => void;
  onRestart: (error: unknown) => void;
  /** Trims each object before it is cached (drop what reconcile never reads, to save memory). */
  transform?: (obj: T) => T;
  clock: Clock;
  log: Logger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A Watch that hands events' objects through `transform` before ListWatch caches them. */
class TransformingWatch extends Watch {
  private readonly transform: (obj: unknown) => unknown;
  constructor(kc: KubeConfig, transform: (obj: unknown) => unknown) {
    super(kc);
    this.transform = transform;
  }
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, obj, watchObj) => {
        const isObject =
          phase !== 'ERROR' && phase !== 'BOOKMARK' && typeof obj === 'object' && obj !== null;
        callback(phase, isObject ? this.transform(obj) : obj, watchObj);
      },
      done,
    );
  }
}

/** Drops metadata.managedFields (often the largest part of an object). */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (!('managedFields' in obj.metadata)) return obj;
  const metadata: Record<string, unknown> = { ...obj.metadata };
  delete metadata['managedFields'];
  return { ...obj, metadata: metadata };
}

export class Informer<T extends KubeObject> {
  private readonly lw: ListWatch<KubernetesObject>;
  private readonly options: InformerOptions<T>;
  private failures = 0;
  private stopped = false;
  private syncedFlag = false;
  private lists = 0;
  private restartTimer: unknown;

  constructor(kc: KubeConfig, options: InformerOptions<T>) {
    this.options = options;
    const transform = options.transform ?? ((obj: T) => obj);
    const listFn = async () => {
      const list = await options.list(transform);
      this.lists++;
      return {
        apiVersion: 'v1',
        kind: 'List',
        metadata: list.metadata ?? {},
        items: list.items,
      } as never;
    };
    this.lw = new ListWatch<KubernetesObject>(
      options.path,
      new TransformingWatch(kc, (obj) => transform(obj as T)),
      listFn,
      false,
      options.labelSelector,
    );
    this.lw.on('add', (obj) => {
      this.failures = 0;
      options.onEvent(INFORMER_EVENTS.Add, obj as unknown as T);
    });
    this.lw.on('update', (obj) => {
      this.failures = 0;
      options.onEvent(INFORMER_EVENTS.Update, obj as unknown as T);
    });
    this.lw.on('delete', (obj) => {
      options.onEvent(INFORMER_EVENTS.Delete, obj as unknown as T);
    });
    this.lw.on('error', (error: unknown) => {
      this.scheduleRestart(error);
    });
  }

  get synced(): boolean {
    return this.syncedFlag;
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Synced once a list has landed in the cache, even if the watch after it failed (the cache is
    // complete as of that list; the restart resumes from its resourceVersion).
    const listsBefore = this.lists;
    await this.lw.start();
    if (this.lists > listsBefore) this.syncedFlag = true;
  }

  private scheduleRestart(error: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const base = this.options.baseBackoffMs ?? 500;
    const delay = Math.min(
      this.options.maxBackoffMs ?? 30_000,
      base * 2 ** Math.min(this.failures - 1, 10),
    );
    this.options.log.warn(
      { resource: this.options.resource, err: error, retryInMs: delay },
      'watch failed; restarting informer',
    );
    this.options.onRestart(error);
    this.restartTimer = this.options.clock.setTimeout(() => {
      void this.start().catch((e: unknown) => {
        this.scheduleRestart(e);
      });
    }, delay);
  }

  get(name: string, namespace: string): T | undefined {
    return this.lw.get(name, namespace) as unknown as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace) as unknown as readonly T[];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.options.clock.clearTimeout(this.restartTimer);
    await this.lw.stop();
  }
}
