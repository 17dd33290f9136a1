// ESO credential references (SecretKeySelector, ServiceAccountSelector) as secretlink's, with the
// differences between the two made explicit: in a SecretStore secretlink refuses `namespace`; in a
// ClusterSecretStore it requires one, where ESO would fall back to the ExternalSecret's namespace.
import type { SecretKeyRef, ServiceAccountRef } from '../api/types.ts';
import { fields, list, text } from './fields.ts';
import type { CredentialUse, FindingList } from './findings.ts';

export interface StoreScope {
  kind: 'SecretStore' | 'ClusterSecretStore';
  name: string;
  /** The SecretStore's namespace, when the input names it. */
  namespace?: string;
}

export function storeEntry(scope: StoreScope): string {
  return `${scope.kind}/${scope.name}`;
}

function credentialNamespace(
  scope: StoreScope,
  given: string | undefined,
  field: string,
  findings: FindingList,
): string | undefined {
  if (scope.kind === 'SecretStore') {
    if (given !== undefined && scope.namespace !== undefined && given !== scope.namespace) {
      findings.action(
        `${field}.namespace`,
        `names namespace ${given}, but a SecretStore reads credentials only from its own namespace (${scope.namespace}): ` +
          'move the credential there or use a ClusterSecretStore',
      );
    }
    return undefined;
  }
  if (given === undefined) {
    findings.action(
      `${field}.namespace`,
      'is not set: External Secrets Operator then reads the credential from each ExternalSecret’s namespace, ' +
        'secretlink needs one explicit namespace in a ClusterSecretStore; fill in namespace (the API server refuses the store until then)',
    );
  }
  return given;
}

export function secretKeyRef(
  value: unknown,
  scope: StoreScope,
  field: string,
  findings: FindingList,
  uses: CredentialUse[],
  defaultKey?: string,
): SecretKeyRef {
  const ref = fields(value) ?? {};
  const namespace = credentialNamespace(scope, text(ref.namespace), field, findings);
  const name = text(ref.name) ?? '';
  const key = text(ref.key) ?? defaultKey ?? '';
  if (!text(ref.name) || key === '') {
    findings.action(field, 'is incomplete: a Secret reference needs name and key');
  }
  uses.push({ kind: 'Secret', namespace: namespace ?? scope.namespace, name, entry: storeEntry(scope) });
  return { name, key, ...(namespace !== undefined ? { namespace } : {}) };
}

/** ESO may list several audiences; secretlink's minted tokens carry exactly one. */
export function serviceAccountRef(
  value: unknown,
  scope: StoreScope,
  field: string,
  findings: FindingList,
  uses: CredentialUse[],
): ServiceAccountRef {
  const ref = fields(value) ?? {};
  const namespace = credentialNamespace(scope, text(ref.namespace), field, findings);
  const name = text(ref.name) ?? '';
  const audiences = list(ref.audiences)
    .map(text)
    .filter((audience): audience is string => !!audience);
  if (audiences.length > 1) {
    findings.changed(
      `${field}.audiences`,
      `lists ${audiences.length} audiences; secretlink mints tokens with exactly one, so only "${audiences[0]}" is carried over`,
    );
  }
  uses.push({
    kind: 'ServiceAccount',
    namespace: namespace ?? scope.namespace,
    name,
    entry: storeEntry(scope),
  });
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(audiences[0] !== undefined ? { audience: audiences[0] } : {}),
  };
}
