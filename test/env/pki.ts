// Per-run certificates and keys: a cluster CA, the API server's serving certificate, one client certificate
// per component, and the service-account signing key. Nothing is reused across runs.
import { webcrypto } from 'node:crypto';

type KeyPair = webcrypto.CryptoKeyPair;

import fs from 'node:fs/promises';
import path from 'node:path';
import { realNodeName } from './node/name.ts';
// @peculiar/x509 uses decorators that need the Reflect metadata API loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const validity = 7 * 24 * 3600 * 1000;

export interface KeyPairFiles {
  cert: string;
  key: string;
}

export interface ClusterPki {
  caCert: string;
  apiServer: KeyPairFiles;
  /** Client identities: name -> files. The admin identity is in system:masters. */
  clients: Record<string, KeyPairFiles>;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

interface Identity {
  commonName: string;
  organization?: string;
}

export const clientIdentities: Record<string, Identity> = {
  admin: { commonName: 'secretlink-admin', organization: 'system:masters' },
  'kube-controller-manager': { commonName: 'system:kube-controller-manager' },
  'kube-scheduler': { commonName: 'system:kube-scheduler' },
  kwok: { commonName: 'kwok-controller', organization: 'system:masters' },
  // The real node's kubelet (test/env/node), with the identity the system:node role expects.
  kubelet: { commonName: `system:node:${realNodeName}`, organization: 'system:nodes' },
};

export async function createClusterPki(dir: string): Promise<ClusterPki> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const caKeys = await generateKeys();
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=secretlink-test-cluster-ca',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validity),
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const caCert = path.join(dir, 'ca.crt');
  await fs.writeFile(caCert, ca.toString('pem'));

  const issue = async (
    name: string,
    subject: string,
    usage: string,
    altNames: x509.JsonGeneralName[] = [],
  ) => {
    const keys = await generateKeys();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([usage]),
    ];
    if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: ca.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + validity),
      signingKey: caKeys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: algorithm,
      extensions,
    });
    const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
    await fs.writeFile(files.cert, cert.toString('pem'));
    await fs.writeFile(files.key, await privateKeyPem(keys.privateKey), { mode: 0o600 });
    return files;
  };

  const apiServer = await issue('apiserver', 'CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes' },
    { type: 'dns', value: 'kubernetes.default' },
    { type: 'dns', value: 'kubernetes.default.svc' },
    { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
  ]);
  const clients: Record<string, KeyPairFiles> = {};
  for (const [name, identity] of Object.entries(clientIdentities)) {
    const subject = `CN=${identity.commonName}${identity.organization ? `, O=${identity.organization}` : ''}`;
    clients[name] = await issue(`client-${name}`, subject, x509.ExtendedKeyUsage.clientAuth);
  }

  const saKeys = await generateKeys();
  const serviceAccountKey = path.join(dir, 'service-account.key');
  const serviceAccountPublicKey = path.join(dir, 'service-account.pub');
  await fs.writeFile(serviceAccountKey, await privateKeyPem(saKeys.privateKey), { mode: 0o600 });
  const spki = await webcrypto.subtle.exportKey('spki', saKeys.publicKey);
  await fs.writeFile(serviceAccountPublicKey, x509.PemConverter.encode(spki, 'PUBLIC KEY'));

  return { caCert, apiServer, clients, serviceAccountKey, serviceAccountPublicKey };
}

function generateKeys(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<KeyPair>;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function randomSerial(): string {
  // A positive serial: the first hex digit stays below 8 so the DER integer has no sign bit set.
  return (
    (Math.floor(Math.random() * 7) + 1).toString(16) +
    webcrypto
      .getRandomValues(new Uint8Array(15))
      .reduce((hex, byte) => hex + byte.toString(16).padStart(2, '0'), '')
  );
}
