// ESO SecretStore / ClusterSecretStore → secretlink's. A ClusterSecretStore's `conditions` become
// `allowedNamespaces`; with none, ESO lets every namespace use the store, which secretlink can say only
// explicitly (`selector: {}`), so the report points it out.
import type {
  AllowedNamespaces,
  ClusterSecretStore,
  LabelSelector,
  SecretStore,
  StoreProvider,
} from '../api/types.ts';
import type { StoreScope } from './credentials.ts';
import { type Fields, fields, list, otherKeys, text, userMetadata } from './fields.ts';
import type { CredentialUse, FindingList } from './findings.ts';
import { convertAws, convertGcp, convertVault } from './providers.ts';

const supported = ['aws', 'gcpsm', 'vault'];

export function convertStore(
  doc: Fields,
  kind: 'SecretStore' | 'ClusterSecretStore',
  findings: FindingList,
  uses: CredentialUse[],
): SecretStore | ClusterSecretStore | undefined {
  const metadata = userMetadata(doc.metadata);
  const spec = fields(doc.spec) ?? {};
  const scope: StoreScope = {
    kind,
    name: metadata.name,
    ...(kind === 'SecretStore' && metadata.namespace ? { namespace: metadata.namespace } : {}),
  };
  const providerBlock = fields(spec.provider) ?? {};
  const names = Object.keys(providerBlock);
  const name = names.find((candidate) => supported.includes(candidate));
  if (!name) {
    findings.action(
      'spec.provider',
      `${names.length ? `${names.join(', ')} is` : 'no provider is'} not supported by secretlink (AWS Secrets Manager, GCP Secret Manager and Vault are); the store is not converted`,
    );
    return undefined;
  }
  const block = fields(providerBlock[name]) ?? {};
  let provider: StoreProvider;
  if (name === 'aws') {
    const aws = convertAws(block, scope, findings, uses);
    if (!aws) return undefined;
    provider = { aws };
  } else if (name === 'gcpsm') {
    provider = { gcp: convertGcp(block, scope, findings, uses) };
  } else {
    provider = { vault: convertVault(block, scope, findings, uses) };
  }
  for (const key of otherKeys(spec, ['provider', 'conditions'])) {
    findings.changed(
      `spec.${key}`,
      key === 'refreshInterval'
        ? 'secretlink checks a store’s spec when it changes, not on an interval; not carried over'
        : 'has no secretlink equivalent and is not carried over',
    );
  }
  if (kind === 'SecretStore') {
    return { apiVersion: 'secretlink.dev/v1alpha1', kind, metadata, spec: { provider } };
  }
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind,
    metadata,
    spec: { allowedNamespaces: allowedNamespaces(spec.conditions, findings), provider },
  };
}

/** ESO's conditions are alternatives (a namespace matching any one may use the store), as are names and selector. */
export function allowedNamespaces(conditions: unknown, findings: FindingList): AllowedNamespaces {
  const entries = list(conditions).map((entry) => fields(entry) ?? {});
  if (entries.length === 0) {
    findings.changed(
      'spec.conditions',
      'is not set, so every namespace may use this store, as in ESO: written as allowedNamespaces.selector: {}. Narrow it to the namespaces that need the store',
    );
    return { selector: {} };
  }
  const names = new Set<string>();
  const selectors: LabelSelector[] = [];
  entries.forEach((condition, index) => {
    for (const name of list(condition.namespaces)) {
      const asText = text(name);
      if (asText) names.add(asText);
    }
    const selector = fields(condition.namespaceSelector);
    if (selector) selectors.push(selector as LabelSelector);
    if (list(condition.namespaceRegexes).length > 0) {
      findings.action(
        `spec.conditions[${index}].namespaceRegexes`,
        'secretlink matches namespaces by name or label only: namespaces allowed only by these patterns lose access; list them in allowedNamespaces.names or label them',
      );
    }
  });
  const out: AllowedNamespaces = {};
  if (names.size > 0) out.names = [...names].sort();
  if (selectors.length > 0) out.selector = selectors[0]!;
  if (selectors.length > 1) {
    findings.action(
      'spec.conditions',
      `has ${selectors.length} namespaceSelectors; secretlink takes one, so only the first is carried over: namespaces matched only by the others lose access until you list them in allowedNamespaces.names or give them a common label`,
    );
  }
  if (!out.names && !out.selector) {
    findings.action(
      'spec.conditions',
      'allows no namespace that secretlink can express: fill in allowedNamespaces (the API server refuses the store until then)',
    );
  }
  return out;
}
