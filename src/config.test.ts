// Start-up configuration as an operator's user meets it: defaults, flags over variables, and mistakes that
// name the setting without repeating what was given (it may be a credential in the wrong variable).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const pasted = 'hvs.CAESIJ-a-vault-token-in-the-wrong-place';

function failure(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted what it should refuse');
}

describe('loadConfig', () => {
  it('takes defaults, then variables, then flags', () => {
    expect(loadConfig([], {})).toMatchObject({
      concurrency: 16,
      kubeQps: 0,
      storeReadConcurrency: 4,
      namespaces: [],
    });
    expect(loadConfig([], { SECRETLINK_CONCURRENCY: '8' }).concurrency).toBe(8);
    expect(loadConfig(['--concurrency=2'], { SECRETLINK_CONCURRENCY: '8' }).concurrency).toBe(2);
    expect(loadConfig(['--namespaces=etl, analytics'], {}).namespaces).toEqual(['etl', 'analytics']);
  });

  it('denies metadata, link-local and in-cluster hosts to SecretStores unless told otherwise', () => {
    expect(loadConfig([], {}).deniedStoreHosts).toEqual(
      expect.arrayContaining(['169.254.0.0/16', 'metadata.google.internal', 'kubernetes.default', '*.svc']),
    );
    expect(loadConfig(['--denied-store-hosts=10.0.0.0/8, *.corp.example'], {}).deniedStoreHosts).toEqual([
      '10.0.0.0/8',
      '*.corp.example',
    ]);
    const refused = failure([`--denied-store-hosts=10.0.0.0/8,https://${pasted}`]);
    expect(refused.message).toContain('--denied-store-hosts (or SECRETLINK_DENIED_STORE_HOSTS): entry 2 is');
    expect(refused.message).not.toContain(pasted.toLowerCase());
  });

  it('limits what one reference may read by default, tunable per flag', () => {
    expect(loadConfig([], {})).toMatchObject({
      maxResponseBytes: 1024 * 1024,
      maxReferenceBytes: 4 * 1024 * 1024,
      referenceReadConcurrency: 4,
      reconcileTimeoutMs: 30_000,
      maxFindSecrets: 100,
    });
    const tuned = loadConfig(
      [
        '--max-response-bytes=65536',
        '--max-reference-bytes=262144',
        '--reference-read-concurrency=2',
        '--max-find-secrets=10',
      ],
      { SECRETLINK_RECONCILE_TIMEOUT_MS: '5000' },
    );
    expect(tuned).toMatchObject({
      maxResponseBytes: 65536,
      maxReferenceBytes: 262144,
      referenceReadConcurrency: 2,
      reconcileTimeoutMs: 5000,
      maxFindSecrets: 10,
    });
    expect(failure(['--max-reference-bytes=0']).message).toContain('--max-reference-bytes');
    expect(failure(['--max-find-secrets=0']).message).toContain('--max-find-secrets');
  });

  it('names the flag and its variable for a bad value, and never repeats the value', () => {
    for (const [variable, flag] of [
      ['SECRETLINK_KUBE_QPS', 'kube-qps'],
      ['SECRETLINK_PROBE_ADDRESS', 'probe-address'],
      ['SECRETLINK_LOG_LEVEL', 'log-level'],
      ['SECRETLINK_LEADER_ELECT', 'leader-elect'],
      ['SECRETLINK_REFRESH_JITTER', 'refresh-jitter'],
    ] as const) {
      const error = failure([], { [variable]: pasted });
      expect(error.message).toContain(`--${flag} (or ${variable})`);
      expect(error.message).not.toContain(pasted);
      expect(failure([`--${flag}=${pasted}`]).message).not.toContain(pasted);
    }
  });

  it('refuses an argument that is not --name=value by its position, not its text', () => {
    const error = failure(['--concurrency=2', pasted]);
    expect(error.message).toBe('argument 2 is not --name=value (see --help)');
  });

  it('refuses an unknown flag by name', () => {
    expect(failure(['--concurency=2']).message).toBe('unknown flag --concurency; see --help');
  });

  it('refuses an audit file without a signing key, and a signing key on the audit volume', () => {
    expect(failure(['--audit-file=/var/log/secretlink/audit.jsonl']).message).toContain(
      'needs --audit-signing-key-file',
    );
    expect(
      failure([
        '--audit-file=/var/log/secretlink/audit.jsonl',
        '--audit-signing-key-file=/var/log/secretlink/keys/signing.pem',
      ]).message,
    ).toContain('must not be in the directory of --audit-file');
    expect(
      loadConfig(
        [
          '--audit-file=/var/log/secretlink/audit.jsonl',
          '--audit-signing-key-file=/etc/secretlink/audit-key/private.pem',
        ],
        {},
      ),
    ).toMatchObject({
      auditSigningKeyFile: '/etc/secretlink/audit-key/private.pem',
      auditAnchorIntervalSeconds: 60,
    });
  });
});
