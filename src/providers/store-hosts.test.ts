import { afterEach, describe, expect, it } from 'vitest';
import {
  canonicalHost,
  configureDeniedStoreHosts,
  defaultDeniedStoreHosts,
  deniedHostEntryProblem,
  hostDenied,
  storeHostProblems,
} from './store-hosts.ts';

const namespaced = { kind: 'SecretStore', namespace: 'team-a', name: 'vault' } as const;

afterEach(() => configureDeniedStoreHosts(defaultDeniedStoreHosts));

describe('hostDenied', () => {
  it('matches addresses against CIDR blocks and single addresses, IPv4-mapped IPv6 included', () => {
    expect(hostDenied('169.254.169.254', ['169.254.0.0/16'])).toBe(true);
    expect(hostDenied('::ffff:a9fe:a9fe', ['169.254.0.0/16'])).toBe(true);
    expect(hostDenied('10.96.0.1', ['10.96.0.1'])).toBe(true);
    expect(hostDenied('10.96.0.2', ['10.96.0.1'])).toBe(false);
  });

  it('matches names exactly or by *.suffix, ignoring case and a trailing dot', () => {
    expect(hostDenied('Metadata.Google.Internal.', ['metadata.google.internal'])).toBe(true);
    expect(hostDenied('db.team-b.svc', ['*.svc'])).toBe(true);
    expect(hostDenied('svc', ['*.svc'])).toBe(false);
    expect(hostDenied('vault.example.com', defaultDeniedStoreHosts)).toBe(false);
  });

  it('reads numeric IPv4 forms the way a connection would', () => {
    expect(canonicalHost('2852039166')).toBe('169.254.169.254');
    expect(canonicalHost('0xa9.0xfe.0xa9.0xfe')).toBe('169.254.169.254');
  });
});

describe('storeHostProblems', () => {
  it('follows the configured list, and never limits loopback or a ClusterSecretStore', () => {
    configureDeniedStoreHosts(['vault.example.com']);
    expect(storeHostProblems(namespaced, 'vault.example.com', 'p')).toHaveLength(1);
    expect(storeHostProblems(namespaced, '169.254.169.254', 'p')).toEqual([]);
    expect(storeHostProblems(namespaced, '127.0.0.1', 'p')).toEqual([]);
    expect(storeHostProblems({ kind: 'ClusterSecretStore', name: 's' }, 'vault.example.com', 'p')).toEqual(
      [],
    );
  });
});

describe('deniedHostEntryProblem', () => {
  it('accepts addresses, CIDR blocks, names and *.domain, and nothing else', () => {
    for (const entry of defaultDeniedStoreHosts) expect(deniedHostEntryProblem(entry)).toBeUndefined();
    expect(deniedHostEntryProblem('10.0.0.0/33')).toBeDefined();
    expect(deniedHostEntryProblem('*')).toBeDefined();
    expect(deniedHostEntryProblem('http://x')).toBeDefined();
  });
});
