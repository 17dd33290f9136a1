// The CredentialSource the operator uses: Secret keys and ServiceAccount tokens straight from the API
// server, each only for a store the object names in its allowed-stores annotation. Its errors say which
// Secret or ServiceAccount, never what it holds, and never what the API server answered: client-node's
// ApiException message embeds the response body, so only its status code is kept.
import * as k8s from '@kubernetes/client-node';
import { type CredentialRequester, requireOptIn } from './allowed-stores.ts';
import type { CredentialSource, MintedToken, SecretKeyValue, TokenOptions } from './credentials.ts';
import { withDeadline } from './deadline.ts';
import { AccessDenied, CredentialNotFound, InvalidSpec, type ProviderError, Unavailable } from './errors.ts';

// Asks for the object's metadata only, so checking a credential's version does not fetch its data.
const metadataOnly = k8s.setHeaderOptions(
  'Accept',
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
);

export class KubeCredentialSource implements CredentialSource {
  readonly #core: k8s.CoreV1Api;
  readonly #timeoutMs: number;

  constructor(config: k8s.KubeConfig, { timeoutMs = 10_000 } = {}) {
    this.#core = config.makeApiClient(k8s.CoreV1Api);
    this.#timeoutMs = timeoutMs;
  }

  async readSecretKey(
    namespace: string,
    name: string,
    key: string,
    requester: CredentialRequester,
    signal?: AbortSignal,
  ): Promise<SecretKeyValue> {
    const secret = await this.#call(`Secret ${namespace}/${name}`, signal, () =>
      this.#core.readNamespacedSecret({ namespace, name }),
    );
    requireOptIn({ kind: 'Secret', namespace, name }, secret.metadata?.annotations, requester);
    const encoded = secret.data?.[key];
    if (encoded === undefined) {
      throw new CredentialNotFound(`Secret ${namespace}/${name} has no key "${key}"`, { code: 'MissingKey' });
    }
    return { value: Buffer.from(encoded, 'base64'), resourceVersion: secret.metadata?.resourceVersion ?? '' };
  }

  async secretResourceVersion(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    try {
      const metadata = await this.#call(`Secret ${namespace}/${name}`, signal, () =>
        this.#core.readNamespacedSecret({ namespace, name }, metadataOnly),
      );
      return metadata.metadata?.resourceVersion;
    } catch (error) {
      if (error instanceof CredentialNotFound) return undefined;
      throw error;
    }
  }

  async mintServiceAccountToken(
    namespace: string,
    name: string,
    options: TokenOptions,
    requester: CredentialRequester,
    signal?: AbortSignal,
  ): Promise<MintedToken> {
    const what = `ServiceAccount ${namespace}/${name}`;
    // An empty audience list would mint a token for the API server itself.
    if (!options.audience) throw new InvalidSpec(`a token for ${what} needs an audience`);
    const account = await this.#call(what, signal, () =>
      this.#core.readNamespacedServiceAccount({ namespace, name }),
    );
    requireOptIn({ kind: 'ServiceAccount', namespace, name }, account.metadata?.annotations, requester);
    const request = await this.#call(what, signal, () =>
      this.#core.createNamespacedServiceAccountToken({
        namespace,
        name,
        body: { spec: { audiences: [options.audience], expirationSeconds: options.expirationSeconds } },
      }),
    );
    const token = request.status?.token;
    if (!token)
      throw new Unavailable(`the API server returned no token for ServiceAccount ${namespace}/${name}`);
    return { token, expiresAt: new Date(request.status?.expirationTimestamp ?? Date.now()) };
  }

  #call<T>(what: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    return withDeadline(
      this.#timeoutMs,
      signal,
      `reading ${what} from the API server`,
      () => work(),
      (error) => apiError(what, error),
    );
  }
}

/** Exported for its test: the message is built from `what` and the status code only. */
export function apiError(what: string, error: unknown): ProviderError {
  const status = error instanceof k8s.ApiException ? error.code : undefined;
  const detail = { provider: 'kubernetes', httpStatus: status };
  if (status === 404) return new CredentialNotFound(`${what} does not exist`, detail);
  if (status === 403) return new AccessDenied(`the operator may not read ${what} (HTTP 403)`, detail);
  return new Unavailable(
    `the API server could not be asked for ${what}${status ? ` (HTTP ${status})` : ''}`,
    detail,
  );
}
