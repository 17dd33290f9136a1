// Vault answers and transport failures to typed provider errors. Vault's own error strings are not passed
// on: only the HTTP status decides, and the message is ours.
import {
  AccessDenied,
  InvalidReference,
  isProviderError,
  NotFound,
  type ProviderError,
  Throttled,
  Unavailable,
} from '../errors.ts';
import { transportErrorCode } from '../transport-errors.ts';

export function vaultStatusError(status: number, what: string, remote?: string): ProviderError {
  const detail = { provider: 'vault', remote, httpStatus: status };
  if (status === 404) return new NotFound(`Vault has no ${what}`, detail);
  if (status === 401 || status === 403)
    return new AccessDenied(`Vault denied access to ${what} (HTTP ${status})`, detail);
  if (status === 429) return new Throttled(`Vault throttled the request for ${what}`, detail);
  if (status === 400 || status === 405)
    return new InvalidReference(`Vault rejected the request for ${what} (HTTP ${status})`, detail);
  return new Unavailable(`Vault failed to answer for ${what} (HTTP ${status})`, detail);
}

export function mapVaultError(error: unknown, remote?: string): ProviderError {
  if (isProviderError(error)) return error;
  const transport = transportErrorCode(error);
  return new Unavailable(`Vault could not be reached (${transport ?? 'request failed'})`, {
    provider: 'vault',
    remote,
    code: transport,
  });
}
