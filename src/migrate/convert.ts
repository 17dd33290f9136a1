// The migration as one pure function: External Secrets Operator manifests in, secretlink manifests, findings
// and the credential opt-ins the user must add out. Reading files and writing YAML is cli.ts's job.
import { convertExternalSecret } from './external-secret.ts';
import { fields, text } from './fields.ts';
import {
  type CredentialOptIn,
  type CredentialUse,
  credentialOptIns,
  type Finding,
  FindingList,
} from './findings.ts';
import { convertStore } from './stores.ts';

export interface MigrationResult {
  /** secretlink objects, plus any non-ESO input documents, in input order. */
  manifests: object[];
  findings: Finding[];
  credentialOptIns: CredentialOptIn[];
}

const esoGroup = 'external-secrets.io';
const esoVersions = ['v1', 'v1beta1'];

export function migrate(documents: readonly unknown[]): MigrationResult {
  const manifests: object[] = [];
  const findings: Finding[] = [];
  const uses: CredentialUse[] = [];
  for (const document of expandLists(documents)) {
    const doc = fields(document);
    if (!doc) continue;
    const kind = text(doc.kind) ?? '';
    const apiVersion = text(doc.apiVersion) ?? '';
    const meta = fields(doc.metadata) ?? {};
    const namespace = text(meta.namespace);
    const label = `${kind} ${namespace ? `${namespace}/` : ''}${text(meta.name) ?? '(unnamed)'}`;
    const list = new FindingList(label);
    const [group, version = ''] = apiVersion.split('/');
    if (group !== esoGroup) {
      manifests.push(doc);
      list.info('', 'not an External Secrets Operator object: copied unchanged');
    } else if (!esoVersions.includes(version)) {
      list.action(
        'apiVersion',
        `${apiVersion} is not converted (only ${esoVersions.map((v) => `${esoGroup}/${v}`).join(' and ')}): upgrade it with ESO first`,
      );
    } else if (kind === 'ExternalSecret') {
      manifests.push(convertExternalSecret(doc, list));
    } else if (kind === 'SecretStore' || kind === 'ClusterSecretStore') {
      const store = convertStore(doc, kind, list, uses);
      if (store) manifests.push(store);
    } else {
      list.action('kind', `${kind} has no secretlink equivalent and is not converted`);
    }
    findings.push(...list.items);
  }
  return { manifests, findings, credentialOptIns: credentialOptIns(uses) };
}

/** `kubectl get -o yaml` wraps objects in a List. */
function expandLists(documents: readonly unknown[]): unknown[] {
  return documents.flatMap((document) => {
    const doc = fields(document);
    return doc && doc.kind === 'List' && Array.isArray(doc.items) ? doc.items : [document];
  });
}
