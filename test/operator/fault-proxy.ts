// A fault-injecting TCP proxy in front of the real API server of the test cluster, to test how
// informers and the operator recover from refused connections and dropped watches. It forwards
// bytes only (TLS passes through end to end: the client still verifies the API server's
// certificate and authenticates with its client certificate); it never answers for the server.
//
//   const proxy = new FaultProxy(cluster.kc.getCurrentCluster()!.server);
//   const kubeconfig = proxy.kubeconfig(cluster.kubeconfig, await proxy.listen());
//   proxy.refuse();   // new connections are reset at once (the API server is "down")
//   proxy.cut();      // every open connection is reset (watch streams drop mid-flight)
//   proxy.accept();   // traffic flows again
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';

interface KubeconfigFile {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
}

export class FaultProxy {
  private readonly server: Server;
  private readonly targetHost: string;
  private readonly targetPort: number;
  private readonly open = new Set<Socket>();
  private refusing = false;
  private readonly tempDirs: string[] = [];
  /** Connections forwarded to the API server so far. */
  forwarded = 0;
  /** Connections reset on arrival while refusing. */
  refused = 0;

  /** `server`: the API server's URL, e.g. https://127.0.0.1:6443. */
  constructor(server: string) {
    const url = new URL(server);
    if (url.protocol !== 'https:')
      throw new Error(`FaultProxy: expected an https URL, got ${server}`);
    this.targetHost = url.hostname.replace(/^\[|\]$/g, '');
    this.targetPort = Number(url.port || 443);
    this.server = createServer((client) => {
      this.handle(client);
    });
  }

  /** Listens on an ephemeral port of 127.0.0.1 and returns it. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('FaultProxy is not listening');
    return address.port;
  }

  /** Sockets open now (both the client and the API server side). */
  get openSockets(): number {
    return this.open.size;
  }

  /** Resets every new connection on arrival until accept(). */
  refuse(): void {
    this.refusing = true;
  }

  accept(): void {
    this.refusing = false;
  }

  /** Resets every open connection (both sides); returns how many client connections it cut. */
  cut(): number {
    let clients = 0;
    for (const socket of [...this.open]) {
      if (socket.localPort === this.port) clients++;
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    this.open.clear();
    return clients;
  }

  /**
   * Writes a copy of the kubeconfig at `source` whose clusters point at this proxy, with the same
   * CA and credentials, and `tls-server-name` so that the API server's certificate is checked
   * against a name it carries (src/cluster/certs.ts: localhost, 127.0.0.1, kubernetes...).
   */
  kubeconfig(source: string, port = this.port, tlsServerName = 'localhost'): string {
    const config = load(readFileSync(source, 'utf8')) as KubeconfigFile;
    if (!config.clusters?.length) throw new Error(`${source}: kubeconfig has no clusters`);
    for (const c of config.clusters) {
      c.cluster['server'] = `https://127.0.0.1:${port}`;
      c.cluster['tls-server-name'] = tlsServerName;
    }
    const dir = mkdtempSync(join(tmpdir(), 'selectn-fault-proxy-'));
    this.tempDirs.push(dir);
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, dump(config), { mode: 0o600 });
    return file;
  }

  private track(socket: Socket): void {
    this.open.add(socket);
    socket.on('close', () => this.open.delete(socket));
    socket.on('error', () => undefined); // resets are the point; the peer sees them
  }

  private handle(client: Socket): void {
    if (this.refusing) {
      this.refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.forwarded++;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.track(client);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // One side gone: take the other down the same way (a reset stays a reset).
    client.on('close', (hadError) => {
      if (upstream.destroyed) return;
      if (hadError) upstream.resetAndDestroy();
      else upstream.end();
    });
    upstream.on('close', (hadError) => {
      if (client.destroyed) return;
      if (hadError) client.resetAndDestroy();
      else client.end();
    });
  }

  /** Cuts every connection, stops listening and removes the kubeconfigs it wrote. */
  async close(): Promise<void> {
    this.cut();
    for (const dir of this.tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
