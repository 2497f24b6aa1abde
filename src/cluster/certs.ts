// TLS material for the local control plane: one CA, serving certs for etcd and the API server,
// client certs per component, and the service-account signing key pair. ECDSA P-256 throughout.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

/** Paths of every PEM file under <state>/pki. */
export interface PkiPaths {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly etcdServerCert: string;
  readonly etcdServerKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly apiserverEtcdClientCert: string;
  readonly apiserverEtcdClientKey: string;
  readonly saKey: string;
  readonly saPub: string;
}

/** Identities that get a client certificate and a kubeconfig of their own. */
export const CLIENTS = {
  admin: { cn: 'selectn-admin', org: 'system:masters' },
  'kube-controller-manager': { cn: 'system:kube-controller-manager', org: '' },
  'kube-scheduler': { cn: 'system:kube-scheduler', org: '' },
  // kwok and the pod runner play the kubelet for every fake node; they write node and pod status.
  kwok: { cn: 'selectn-kwok', org: 'system:masters' },
  'pod-runner': { cn: 'selectn-pod-runner', org: 'system:masters' },
} as const;
export type ClientName = keyof typeof CLIENTS;

export function pkiPaths(stateDir: string): PkiPaths {
  const dir = join(stateDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    etcdServerCert: join(dir, 'etcd-server.crt'),
    etcdServerKey: join(dir, 'etcd-server.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    apiserverEtcdClientCert: join(dir, 'apiserver-etcd-client.crt'),
    apiserverEtcdClientKey: join(dir, 'apiserver-etcd-client.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  };
}

export function clientCertPaths(
  stateDir: string,
  client: ClientName,
): { cert: string; key: string } {
  const dir = join(stateDir, 'pki');
  return { cert: join(dir, `client-${client}.crt`), key: join(dir, `client-${client}.key`) };
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function privatePem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function publicPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

async function importPrivate(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

function subject(cn: string, org: string): string {
  return org ? `CN=${cn}, O=${org}` : `CN=${cn}`;
}

interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly key: CryptoKey;
}

async function createCa(): Promise<{ pair: CertPair; issuer: Issuer }> {
  const keys = await keyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=selectn-local-ca',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    pair: { cert: cert.toString('pem'), key: await privatePem(keys.privateKey) },
    issuer: { cert, key: keys.privateKey },
  };
}

interface LeafSpec {
  readonly cn: string;
  readonly org?: string;
  readonly server?: boolean;
  readonly client?: boolean;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
}

async function createLeaf(issuer: Issuer, spec: LeafSpec): Promise<CertPair> {
  const keys = await keyPair();
  const now = Date.now();
  const usages: string[] = [];
  if (spec.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false),
  ];
  const names = [
    ...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(spec.cn, spec.org ?? ''),
    issuer: issuer.cert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: issuer.key,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privatePem(keys.privateKey) };
}

function write(path: string, pem: string, secret: boolean): void {
  writeFileSync(path, pem.endsWith('\n') ? pem : pem + '\n', { mode: secret ? 0o600 : 0o644 });
}

/** The API server's in-cluster service IP (first address of the service range). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

/**
 * Creates every certificate and key that is missing under <state>/pki (idempotent: an existing
 * CA and existing files are kept, so a restarted cluster keeps its identity and tokens).
 */
export async function ensurePki(stateDir: string): Promise<PkiPaths> {
  const paths = pkiPaths(stateDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  let issuer: Issuer;
  if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
    issuer = {
      cert: new x509.X509Certificate(readFileSync(paths.caCert, 'utf8')),
      key: await importPrivate(readFileSync(paths.caKey, 'utf8')),
    };
  } else {
    const ca = await createCa();
    write(paths.caCert, ca.pair.cert, false);
    write(paths.caKey, ca.pair.key, true);
    issuer = ca.issuer;
  }
  const leaves: [string, string, LeafSpec][] = [
    [
      paths.etcdServerCert,
      paths.etcdServerKey,
      { cn: 'selectn-etcd', server: true, client: true, dns: ['localhost'], ips: ['127.0.0.1'] },
    ],
    [
      paths.apiserverCert,
      paths.apiserverKey,
      {
        cn: 'kube-apiserver',
        server: true,
        dns: [
          'localhost',
          'kubernetes',
          'kubernetes.default',
          'kubernetes.default.svc',
          'kubernetes.default.svc.cluster.local',
        ],
        ips: ['127.0.0.1', KUBERNETES_SERVICE_IP],
      },
    ],
    [
      paths.apiserverEtcdClientCert,
      paths.apiserverEtcdClientKey,
      { cn: 'kube-apiserver-etcd-client', client: true },
    ],
  ];
  for (const name of Object.keys(CLIENTS) as ClientName[]) {
    const { cert, key } = clientCertPaths(stateDir, name);
    const who = CLIENTS[name];
    leaves.push([cert, key, { cn: who.cn, org: who.org, client: true }]);
  }
  for (const [certPath, keyPath, spec] of leaves) {
    if (existsSync(certPath) && existsSync(keyPath)) continue;
    const pair = await createLeaf(issuer, spec);
    write(certPath, pair.cert, false);
    write(keyPath, pair.key, true);
  }
  if (!existsSync(paths.saKey) || !existsSync(paths.saPub)) {
    const keys = await keyPair();
    write(paths.saKey, await privatePem(keys.privateKey), true);
    write(paths.saPub, await publicPem(keys.publicKey), false);
  }
  return paths;
}
