// Operator configuration from flags (--name=value) and environment variables (SECRETLINK_NAME), flags first.
// Bad values fail start-up with a message naming the setting, never silently fall back.
import { keyOnAuditVolume } from './audit/signing-key.ts';
import { defaultLimits } from './providers/limits.ts';
import { defaultDeniedStoreHosts, deniedHostEntryProblem } from './providers/store-hosts.ts';

export interface OperatorConfig {
  /** Namespaces to watch; empty means every namespace. */
  namespaces: string[];
  /** Reconciles running at once, across different SecretReferences. */
  concurrency: number;
  /** Sustained and burst rate of writes to the API server; a rate of 0 leaves pacing to the API server. */
  kubeQps: number;
  kubeBurst: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** host:port for /healthz, /readyz and /metrics. */
  probeAddress: string;
  leaderElection: boolean;
  /** Namespace the operator runs in: its Lease and fingerprint key Secret live there. */
  operatorNamespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  /** This replica's identity in the Lease and in Events. */
  identity: string;
  /** Append-only, signed, hash-chained audit file; empty disables the file sink. */
  auditFile: string;
  /** PEM Ed25519 private key that signs the audit file; required with auditFile, never on the audit volume. */
  auditSigningKeyFile: string;
  /** Seconds between anchors of the audit chain's head (a Lease annotation and an Event). */
  auditAnchorIntervalSeconds: number;
  fingerprintKeySecret: string;
  /** Deadline for each call to a secret store. */
  storeTimeoutMs: number;
  /** Spread of refresh times (fraction of refreshInterval) so many references do not refresh at once. */
  refreshJitter: number;
  /** Hosts a namespaced SecretStore may not name as its server or endpoint (IPs, CIDR blocks, names, *.domain). */
  deniedStoreHosts: string[];
  /** Largest answer accepted from a store; larger ones are refused before they are parsed. */
  maxResponseBytes: number;
  /** Bytes of store answers one SecretReference's values may come from, per reconcile. */
  maxReferenceBytes: number;
  /** Remote secrets of one SecretReference read at once. */
  referenceReadConcurrency: number;
  /** SecretReferences whose store reads run at once, whatever --concurrency is. */
  storeReadConcurrency: number;
  /** Deadline for all store reads of one reconcile. */
  reconcileTimeoutMs: number;
  /** Remote secrets one dataFrom find may read, whatever its maxSecrets says. */
  maxFindSecrets: number;
}

interface Setting {
  flag: string;
  help: string;
  parse: (raw: string) => unknown;
  fallback: string;
}

const settings: Record<keyof OperatorConfig, Setting> = {
  namespaces: {
    flag: 'namespaces',
    help: 'comma-separated namespaces to watch (default: all)',
    parse: list,
    fallback: '',
  },
  // A reconcile mostly waits on API server round trips; store reads have their own, smaller bound
  // (--store-read-concurrency), so this can be high without holding more store answers at once.
  concurrency: { flag: 'concurrency', help: 'reconciles at once', parse: positiveInteger, fallback: '16' },
  // 0: no client-side pacing. API Priority and Fairness paces the operator on the server, and the 429 it answers
  // when it will not queue is retried after its Retry-After (src/controller/cluster-writer.ts). A rate here
  // only adds waiting on top of that (docs/design.md, "Pacing").
  kubeQps: {
    flag: 'kube-qps',
    help: 'API server writes per second (0: no client-side pacing)',
    parse: nonNegativeNumber,
    fallback: '0',
  },
  kubeBurst: { flag: 'kube-burst', help: 'API server write burst', parse: positiveInteger, fallback: '40' },
  logLevel: {
    flag: 'log-level',
    help: 'fatal|error|warn|info|debug|trace',
    parse: logLevel,
    fallback: 'info',
  },
  probeAddress: {
    flag: 'probe-address',
    help: 'host:port for health and metrics',
    parse: address,
    fallback: '0.0.0.0:8080',
  },
  leaderElection: {
    flag: 'leader-elect',
    help: 'use a Lease so one replica acts',
    parse: boolean,
    fallback: 'true',
  },
  operatorNamespace: {
    flag: 'operator-namespace',
    help: 'namespace of the Lease and key',
    parse: text,
    fallback: 'secretlink-system',
  },
  leaseName: {
    flag: 'lease-name',
    help: 'name of the leader election Lease',
    parse: text,
    fallback: 'secretlink-operator',
  },
  leaseDurationSeconds: {
    flag: 'lease-duration',
    help: 'seconds a leader holds the Lease',
    parse: positiveInteger,
    fallback: '15',
  },
  identity: {
    flag: 'identity',
    help: 'this replica (default: pod name)',
    parse: text,
    fallback: process.env.HOSTNAME ?? 'secretlink',
  },
  auditFile: {
    flag: 'audit-file',
    help: 'path of the signed, hash-chained audit file',
    parse: (raw) => raw,
    fallback: '',
  },
  auditSigningKeyFile: {
    flag: 'audit-signing-key-file',
    help: 'Ed25519 private key (PEM) signing it',
    parse: (raw) => raw,
    fallback: '',
  },
  auditAnchorIntervalSeconds: {
    flag: 'audit-anchor-interval',
    help: 'seconds between audit chain anchors',
    parse: positiveInteger,
    fallback: '60',
  },
  fingerprintKeySecret: {
    flag: 'fingerprint-key-secret',
    help: 'Secret holding the HMAC key',
    parse: text,
    fallback: 'secretlink-fingerprint-key',
  },
  storeTimeoutMs: {
    flag: 'store-timeout-ms',
    help: 'deadline of each store call',
    parse: positiveInteger,
    fallback: '10000',
  },
  refreshJitter: {
    flag: 'refresh-jitter',
    help: 'fraction 0..0.5 of refreshInterval',
    parse: fraction,
    fallback: '0.1',
  },
  deniedStoreHosts: {
    flag: 'denied-store-hosts',
    help: 'hosts a SecretStore may not reach',
    parse: hostList,
    fallback: defaultDeniedStoreHosts.join(','),
  },
  // The limits below keep one SecretReference from exhausting the memory and workers all tenants share
  // (docs/design.md, "Limits").
  maxResponseBytes: {
    flag: 'max-response-bytes',
    help: 'largest answer read from a store',
    parse: positiveInteger,
    fallback: String(defaultLimits.maxResponseBytes),
  },
  maxReferenceBytes: {
    flag: 'max-reference-bytes',
    help: 'store bytes one reference may read',
    parse: positiveInteger,
    fallback: String(defaultLimits.maxReferenceBytes),
  },
  referenceReadConcurrency: {
    flag: 'reference-read-concurrency',
    help: "a reference's remote secrets read at once",
    parse: positiveInteger,
    fallback: String(defaultLimits.referenceReadConcurrency),
  },
  // Kept apart from --concurrency: a reconcile mostly waits on the API server, and only this many of them hold
  // store answers at once (times --reference-read-concurrency), however many reconciles run.
  storeReadConcurrency: {
    flag: 'store-read-concurrency',
    help: 'references reading their store at once',
    parse: positiveInteger,
    fallback: String(defaultLimits.storeReadConcurrency),
  },
  reconcileTimeoutMs: {
    flag: 'reconcile-timeout-ms',
    help: "deadline of one reconcile's store reads",
    parse: positiveInteger,
    fallback: String(defaultLimits.reconcileTimeoutMs),
  },
  maxFindSecrets: {
    flag: 'max-find-secrets',
    help: 'remote secrets one dataFrom find may read',
    parse: positiveInteger,
    fallback: String(defaultLimits.maxFindSecrets),
  },
};

/**
 * A configuration mistake, named by flag and variable. Never the value given: a credential pasted into the
 * wrong variable must not end up in a log.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const flags = new Map<string, string>();
  for (const [index, arg] of argv.entries()) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ConfigError(`argument ${index + 1} is not --name=value (see --help)`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const known = new Set(Object.values(settings).map((s) => s.flag));
  for (const flag of flags.keys()) {
    if (!known.has(flag)) throw new ConfigError(`unknown flag --${flag}; see --help`);
  }
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const variable = `SECRETLINK_${setting.flag.toUpperCase().replaceAll('-', '_')}`;
    const raw = flags.get(setting.flag) ?? env[variable] ?? setting.fallback;
    try {
      config[key] = setting.parse(raw);
    } catch (error) {
      throw new ConfigError(`--${setting.flag} (or ${variable}): ${(error as Error).message}`);
    }
  }
  return checkAuditSettings(config as unknown as OperatorConfig);
}

/** The audit file is signed with a key that must come from somewhere else than the audit volume. */
function checkAuditSettings(config: OperatorConfig): OperatorConfig {
  if (!config.auditFile) return config;
  if (!config.auditSigningKeyFile) {
    throw new ConfigError(
      '--audit-file (or SECRETLINK_AUDIT_FILE) needs --audit-signing-key-file (or SECRETLINK_AUDIT_SIGNING_KEY_FILE): the audit file is signed',
    );
  }
  if (keyOnAuditVolume(config.auditSigningKeyFile, config.auditFile)) {
    throw new ConfigError(
      '--audit-signing-key-file must not be in the directory of --audit-file: whoever can rewrite the audit file must not be able to read the key that signs it',
    );
  }
  return config;
}

export function usage(): string {
  return Object.values(settings)
    .map(
      (s) => `  --${s.flag.padEnd(24)} ${s.help} [SECRETLINK_${s.flag.toUpperCase().replaceAll('-', '_')}]`,
    )
    .join('\n');
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function hostList(raw: string): string[] {
  const entries = list(raw).map((entry) => entry.toLowerCase());
  for (const [index, entry] of entries.entries()) {
    const problem = deniedHostEntryProblem(entry);
    // The position, not the entry: the rule that values are never echoed holds for every setting.
    if (problem) throw new Error(`entry ${index + 1} is ${problem}`);
  }
  return entries;
}

function positiveInteger(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error('is not a positive whole number');
  return value;
}

function nonNegativeNumber(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error('is not a number of 0 or more');
  return value;
}

function fraction(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 0.5)
    throw new Error('is not a number between 0 and 0.5');
  return value;
}

function boolean(raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error('is not true or false');
}

function text(raw: string): string {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
}

function logLevel(raw: string): OperatorConfig['logLevel'] {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
  if (!levels.includes(raw)) throw new Error(`is not one of ${levels.join(', ')}`);
  return raw as OperatorConfig['logLevel'];
}

function address(raw: string): string {
  if (!/^[^\s:]+:\d{1,5}$/.test(raw)) throw new Error('is not host:port');
  return raw;
}
