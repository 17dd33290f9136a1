// Where a store may send the operator's requests. A SecretStore is written by a namespace's users, and the
// operator connects from its own pod: without a limit, a SecretStore could aim it at the cloud metadata
// service, the API server or another tenant's Services (request forgery from a trusted position). So a
// SecretStore's server or endpoint may not name a host on the deny-list. ClusterSecretStores are written by
// administrators and are not limited. And plain http leaves the operator only for loopback, or when the
// store says so in a field a reviewer sees.
//
// Hosts are judged as written (after URL normalisation, which turns 0xA9FEA9FE or 2852039166 into
// 169.254.169.254): names are not resolved. A public name that resolves to a denied address is not caught
// here; an egress NetworkPolicy on the operator's pod is what closes that (docs/security.md).
import { BlockList, isIP } from 'node:net';
import type { StoreScope, ValidationProblem } from './types.ts';
import { isLoopbackHost, urlProblems } from './validation.ts';

/**
 * The default deny-list: link-local addresses (cloud metadata services live at 169.254.169.254 and
 * fd00:ec2::254), the GCE metadata server's names, and the names that reach the API server or any Service
 * or pod through the cluster's DNS. `--denied-store-hosts` replaces it.
 */
export const defaultDeniedStoreHosts: readonly string[] = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254',
  'metadata.google.internal',
  'metadata',
  'kubernetes',
  'kubernetes.default',
  '*.svc',
  '*.pod',
  '*.cluster.local',
];

let deniedHosts: readonly string[] = defaultDeniedStoreHosts;

/** Set once at start-up from the operator's configuration. */
export function configureDeniedStoreHosts(entries: readonly string[]): void {
  deniedHosts = [...entries];
}

export function currentDeniedStoreHosts(): readonly string[] {
  return deniedHosts;
}

/** A deny-list entry: an IP address, a CIDR block, an exact host name, or `*.suffix`. */
export function deniedHostEntryProblem(entry: string): string | undefined {
  if (entry.startsWith('*.')) return /^\*(\.[a-z0-9-]+)+$/.test(entry) ? undefined : 'not *.domain';
  const [address, bits, ...rest] = entry.split('/');
  if (bits !== undefined) {
    const family = isIP(address ?? '');
    const max = family === 4 ? 32 : 128;
    if (rest.length > 0 || family === 0 || !/^\d+$/.test(bits) || Number(bits) > max)
      return 'not a CIDR block';
    return undefined;
  }
  if (isIP(entry)) return undefined;
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)
    ? undefined
    : 'not an IP address, a CIDR block, a host name or *.domain';
}

/** The host as a connection would use it: lower case, no brackets, no trailing dot, IPv4 in dotted form. */
export function canonicalHost(host: string): string {
  const bare = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (isIP(bare) === 6) return bare;
  try {
    return new URL(`https://${bare}/`).hostname;
  } catch {
    return bare;
  }
}

/** Whether `host` matches an entry of `entries`. */
export function hostDenied(host: string, entries: readonly string[]): boolean {
  const canonical = canonicalHost(host);
  const family = isIP(canonical);
  if (family !== 0) {
    const list = new BlockList();
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const entryFamily = isIP(address);
      if (entryFamily === 0) continue;
      const type = entryFamily === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(bits), type);
    }
    // BlockList also matches an IPv4-mapped IPv6 address (::ffff:169.254.169.254) against IPv4 entries.
    return list.check(canonical, family === 4 ? 'ipv4' : 'ipv6');
  }
  return entries.some((entry) =>
    entry.startsWith('*.') ? canonical.endsWith(entry.slice(1)) : canonical === entry.toLowerCase(),
  );
}

/**
 * Problems with the host a store connects to. For a SecretStore: a host on the deny-list, or a name of one
 * label, which the cluster's DNS search path completes to a Service of the operator's namespace.
 */
export function storeHostProblems(scope: StoreScope, host: string, path: string): ValidationProblem[] {
  if (scope.kind !== 'SecretStore' || isLoopbackHost(host)) return [];
  const canonical = canonicalHost(host);
  const reason = hostDenied(canonical, deniedHosts)
    ? "is on the operator's deny-list of metadata, link-local and in-cluster hosts"
    : isIP(canonical) === 0 && !canonical.includes('.')
      ? 'is a one-label name, which the cluster DNS completes to an in-cluster Service'
      : undefined;
  if (!reason) return [];
  return [
    {
      path,
      message:
        `host ${canonical} ${reason}: it is not allowed for a SecretStore; an administrator can serve it ` +
        'through a ClusterSecretStore, or change the list with --denied-store-hosts',
    },
  ];
}

/**
 * Problems with the URL a store connects to (Vault's server, an AWS endpoint override): not an http(s) URL,
 * plain http to anything but loopback unless the store sets allowInsecureHttp: true, or a refused host.
 */
export function serverUrlProblems(
  url: string,
  allowInsecureHttp: boolean | undefined,
  scope: StoreScope,
  path: string,
): ValidationProblem[] {
  const malformed = urlProblems(url, path);
  if (malformed.length > 0) return malformed;
  const { protocol, hostname } = new URL(url);
  const problems = storeHostProblems(scope, hostname, path);
  if (protocol !== 'http:' || allowInsecureHttp === true || isLoopbackHost(hostname)) return problems;
  return [
    {
      path,
      message:
        `plain http to ${hostname} would send credentials and values unencrypted: use https, or set ` +
        'allowInsecureHttp: true in the store if the network path is trusted',
    },
    ...problems,
  ];
}
