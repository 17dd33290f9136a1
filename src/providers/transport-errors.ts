// Recognising failures below the store's API (refused connections, resets, DNS, TLS), which every SDK
// surfaces a little differently: as an errno code on the error, on its cause, or inside an AggregateError.

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const tlsCodes = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|ERR_TLS_|ERR_SSL_)/;

/** The errno-style code of a transport failure, or undefined when `error` is something else. */
export function transportErrorCode(error: unknown, depth = 0): string | undefined {
  if (depth > 3 || typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (networkCodes.has(code) || tlsCodes.test(code))) return code;
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'RequestTimeout') return 'Timeout';
  for (const inner of (error as { errors?: unknown[] }).errors ?? []) {
    const found = transportErrorCode(inner, depth + 1);
    if (found) return found;
  }
  return transportErrorCode((error as { cause?: unknown }).cause, depth + 1);
}
