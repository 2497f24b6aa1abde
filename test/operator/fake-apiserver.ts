// A tiny HTTP stand-in for the list and watch endpoints, to test how informers and the manager
// recover from failed and dropped watches. (End-to-end tests use the real API server.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type WatchBehaviour = 'fail' | 'gone' | 'drop' | 'hold';

export class FakeApiServer {
  readonly server: Server;
  /** Items returned by lists, per collection path. */
  readonly lists = new Map<string, unknown[]>();
  /** What the next watches of a path do (shifted per watch; default 'hold'). */
  readonly watchPlan = new Map<string, WatchBehaviour[]>();
  /** Events pushed to held watches of a path. */
  private readonly held = new Map<string, ServerResponse[]>();
  readonly requests: string[] = [];
  resourceVersion = 100;

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  kubeconfig(port: number): string {
    const dir = mkdtempSync(join(tmpdir(), 'selectn-fake-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'fake',
            cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true },
          },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    return file;
  }

  push(path: string, type: string, object: unknown): void {
    for (const res of this.held.get(path) ?? []) res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(
      `${req.method ?? ''} ${url.pathname}${url.searchParams.get('watch') ? '?watch' : ''}`,
    );
    if (url.searchParams.get('watch') === 'true') {
      const behaviour = this.watchPlan.get(url.pathname)?.shift() ?? 'hold';
      if (behaviour === 'fail') {
        res.writeHead(500).end('boom');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (behaviour === 'gone') {
        res.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
        );
        return;
      }
      if (behaviour === 'drop') {
        res.end();
        return;
      }
      res.flushHeaders();
      const list = this.held.get(url.pathname) ?? [];
      list.push(res);
      this.held.set(url.pathname, list);
      return;
    }
    if (req.method === 'GET' && this.lists.has(url.pathname)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'List',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(++this.resourceVersion) },
          items: this.lists.get(url.pathname),
        }),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }));
  }

  async close(): Promise<void> {
    for (const list of this.held.values()) for (const res of list) res.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
