// Provider name -> Provider, and the checks that apply to every store before its provider's own.
import { awsProvider } from './aws/provider.ts';
import { gcpProvider } from './gcp/provider.ts';
import type { ProviderName, ProviderSpecs, SecretStoreSpec, StoreObject } from './store-spec.ts';
import type { Provider, StoreScope, ValidationProblem } from './types.ts';
import { exactlyOne, storeScope } from './validation.ts';
import { vaultProvider } from './vault/provider.ts';

export const providers: { readonly [N in ProviderName]: Provider<N> } = {
  aws: awsProvider,
  gcp: gcpProvider,
  vault: vaultProvider,
};

export const providerNames = Object.keys(providers) as ProviderName[];

/** The one provider a store spec names, with its block; undefined when it names none or several. */
export function selectProvider(
  spec: SecretStoreSpec,
):
  | { [N in ProviderName]: { name: N; provider: Provider<N>; spec: ProviderSpecs[N] } }[ProviderName]
  | undefined {
  const { chosen } = exactlyOne(spec.provider ?? {}, providerNames, 'spec.provider');
  switch (chosen) {
    case 'aws':
      return { name: 'aws', provider: providers.aws, spec: spec.provider.aws! };
    case 'gcp':
      return { name: 'gcp', provider: providers.gcp, spec: spec.provider.gcp! };
    case 'vault':
      return { name: 'vault', provider: providers.vault, spec: spec.provider.vault! };
    default:
      return undefined;
  }
}

/** Static validation of a whole store: no network, no cluster reads. An empty list means valid. */
export function validateStore(store: StoreObject): ValidationProblem[] {
  const scope: StoreScope = storeScope(store);
  const problems: ValidationProblem[] = [];
  if (store.kind === 'SecretStore' && !store.metadata.namespace) {
    problems.push({ path: 'metadata.namespace', message: 'a SecretStore is namespaced' });
  }
  const { problem } = exactlyOne(store.spec?.provider ?? {}, providerNames, 'spec.provider');
  if (problem) return [...problems, problem];
  const selected = selectProvider(store.spec)!;
  return [...problems, ...validateWith(selected, scope)];
}

function validateWith(selected: NonNullable<ReturnType<typeof selectProvider>>, scope: StoreScope) {
  // The union is correlated by construction; TypeScript cannot see that through a call.
  const provider = selected.provider as Provider<ProviderName>;
  return provider.validate(selected.spec as never, scope);
}
