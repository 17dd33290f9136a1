// Writes kubeconfig files for the local API server, one per client identity.
import fs from 'node:fs/promises';
import type { KeyPairFiles } from './pki.ts';

export async function writeKubeconfig(
  file: string,
  server: string,
  caCert: string,
  user: string,
  credentials: KeyPairFiles,
): Promise<void> {
  const content = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: secretlink-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caCert}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate: ${credentials.cert}`,
    `    client-key: ${credentials.key}`,
    'contexts:',
    '- name: secretlink-test',
    '  context:',
    '    cluster: secretlink-test',
    `    user: ${user}`,
    'current-context: secretlink-test',
    '',
  ].join('\n');
  await fs.writeFile(file, content, { mode: 0o600 });
}
