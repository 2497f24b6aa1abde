// Pod IPs for runner pods: a /16 in 127.0.0.0/8 chosen from the cluster name, handed out in
// round-robin order so a freed address is not reused at once.

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Second octet of the cluster's runner pod range: 127.<100..199>.0.0/16. */
export function runnerSubnetOctet(clusterName: string): number {
  return 100 + (fnv1a(clusterName) % 100);
}

export class IpPool {
  private readonly used = new Set<string>();
  private next = 1;
  private readonly prefix: string;
  private readonly size = 256 * 256 - 2;

  constructor(clusterName: string) {
    this.prefix = `127.${runnerSubnetOctet(clusterName)}`;
  }

  contains(ip: string): boolean {
    return ip.startsWith(`${this.prefix}.`);
  }

  /** Marks an address as taken (a pod that already has it, seen after a runner restart). */
  claim(ip: string): boolean {
    if (!this.contains(ip) || this.used.has(ip)) return false;
    this.used.add(ip);
    return true;
  }

  allocate(): string {
    for (let tries = 0; tries < this.size; tries++) {
      const n = this.next;
      this.next = (this.next % this.size) + 1;
      const ip = `${this.prefix}.${Math.floor(n / 256)}.${n % 256}`;
      if (n % 256 === 0 || n % 256 === 255 || this.used.has(ip)) continue;
      this.used.add(ip);
      return ip;
    }
    throw new Error(`runner pod IP range ${this.prefix}.0.0/16 is exhausted`);
  }

  release(ip: string): void {
    this.used.delete(ip);
  }

  get inUse(): number {
    return this.used.size;
  }
}
