// Objects the API server must refuse at apply time, each a valid object broken in one place, with the field
// the refusal must name and words its message must contain. crds.test.ts runs them against the real server.
import type {
  ClusterSecretStore,
  ClusterSecretStoreSpec,
  SecretReference,
  SecretReferenceSpec,
  SecretStore,
  StoreProvider,
} from '../../src/api/types.ts';

type Resource = SecretReference | SecretStore | ClusterSecretStore;

export interface InvalidObject<T extends Resource = Resource> {
  what: string;
  base: () => T;
  mutate: (object: T) => void;
  /** The field path the API server names in its cause. */
  field: string;
  /** Words the message must contain. */
  message: string;
}

const reference = (): SecretReference => ({
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretReference',
  metadata: { name: 'warehouse' },
  spec: {
    storeRef: { name: 'vault-elt' },
    data: [
      {
        key: 'password',
        // An escaped dot and a decoding, so the base proves both are accepted.
        remote: { name: 'elt/warehouse', property: 'db\\.primary.password', version: '3' },
        decoding: 'base64',
      },
    ],
    dataFrom: [
      {
        remote: { name: 'elt/postgres', version: '2' },
        decoding: 'auto',
        // Every rewrite method, so the base proves each is accepted.
        rewrite: [
          { regexp: { source: '[^A-Za-z0-9]+', target: '_$1' } },
          // A repeated non-capturing group without a repetition inside is not the exponential shape.
          { regexp: { source: '(?:__)+', target: '_' } },
          { case: 'upper' },
          { prefix: 'TAP_POSTGRES_' },
        ],
      },
      // A find with every field, so the base proves each is accepted.
      {
        find: {
          path: 'meltano/tap-postgres/',
          name: { regexp: '^meltano/tap-postgres/[a-z_]+$' },
          tags: { team: 'data' },
          maxSecrets: 100,
        },
        rewrite: [{ regexp: { source: '^meltano/tap-postgres/', target: 'TAP_POSTGRES_' } }],
      },
    ],
    target: {
      name: 'warehouse-credentials',
      labels: { team: 'data' },
      // A template with a key holding dots and one with a hyphen, so the base proves both are accepted.
      template: {
        data: {
          'profiles.yml': 'warehouse:\n  outputs:\n    prod:\n      password: {{ password | yaml }}\n',
          'DATABASE-URL': 'postgresql://loader:{{ password | url_encode }}@db:5432/analytics',
        },
        mergePolicy: 'Merge',
      },
    },
    consumers: { matchLabels: { app: 'meltano' } },
    ttl: '2h',
    refreshInterval: '10m',
  },
});

const awsStore = (): SecretStore => ({
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretStore',
  metadata: { name: 'aws' },
  spec: {
    provider: {
      aws: {
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:5000',
        auth: {
          secretRef: {
            accessKeyId: { name: 'aws-keys', key: 'access-key-id' },
            secretAccessKey: { name: 'aws-keys', key: 'secret-access-key' },
          },
        },
      },
    },
  },
});

const gcpStore = (): SecretStore => ({
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretStore',
  metadata: { name: 'gcp' },
  spec: {
    provider: {
      gcp: {
        projectID: 'acme-analytics',
        endpoint: '127.0.0.1:9090',
        auth: {
          workloadIdentity: {
            serviceAccountRef: { name: 'gcp-auth', audience: '//iam.googleapis.com/projects/1/pools/p' },
          },
        },
      },
    },
  },
});

const vaultStore = (): SecretStore => ({
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretStore',
  metadata: { name: 'vault' },
  spec: {
    provider: {
      vault: {
        server: 'https://vault.example.com:8200',
        kv: { mount: 'kv/elt', version: 2 },
        auth: { kubernetes: { role: 'elt', serviceAccountRef: { name: 'vault-auth' } } },
      },
    },
  },
});

const clusterStore = (): ClusterSecretStore => ({
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'ClusterSecretStore',
  metadata: { name: 'shared-vault' },
  spec: {
    allowedNamespaces: { names: ['analytics'], selector: { matchLabels: { team: 'data' } } },
    remoteAccess: [
      { namespaces: { names: ['analytics'] }, prefixes: ['meltano/', ''], names: ['shared/warehouse'] },
      { namespaces: { selector: { matchLabels: { team: 'data' } } }, names: ['dbt/profiles'] },
    ],
    provider: {
      vault: {
        server: 'https://vault.example.com:8200',
        auth: { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: 'secretlink-system' } },
      },
    },
  },
});

function onReference(
  what: string,
  change: (spec: SecretReferenceSpec) => void,
  field: string,
  message: string,
): InvalidObject {
  return {
    what,
    base: reference,
    mutate: (object) => change((object as SecretReference).spec),
    field,
    message,
  };
}

function onStore(
  what: string,
  base: () => SecretStore | ClusterSecretStore,
  change: (provider: StoreProvider, object: SecretStore | ClusterSecretStore) => void,
  field: string,
  message: string,
): InvalidObject {
  return {
    what,
    base,
    mutate: (object) => change((object as SecretStore).spec.provider, object as SecretStore),
    field,
    message,
  };
}

const ttlMessage = 'spec.ttl must be a duration from 1m to 24h';
const secretKeyMessage = 'must be a valid Secret data key';

export const invalidObjects: InvalidObject[] = [
  // SecretReference: isolation
  onReference(
    'an isolation that is not Shared or PerJob',
    (spec) => {
      (spec as { isolation?: string }).isolation = 'PerPod';
    },
    'spec.isolation',
    'Unsupported value',
  ),
  onReference(
    'a PerJob target name too long to carry a Job uid',
    (spec) => {
      spec.isolation = 'PerJob';
      spec.target = { name: 'w'.repeat(217) };
    },
    'spec.target.name',
    'at most 216 characters with isolation PerJob',
  ),
  // SecretReference: durations
  onReference(
    'a ttl over 24h',
    (spec) => {
      spec.ttl = '25h';
    },
    'spec.ttl',
    ttlMessage,
  ),
  onReference(
    'a ttl under a minute',
    (spec) => {
      spec.ttl = '30s';
    },
    'spec.ttl',
    ttlMessage,
  ),
  onReference(
    'a ttl in words',
    (spec) => {
      spec.ttl = '1 hour';
    },
    'spec.ttl',
    ttlMessage,
  ),
  onReference(
    'a negative ttl',
    (spec) => {
      spec.ttl = '-5m';
    },
    'spec.ttl',
    ttlMessage,
  ),
  onReference(
    'a refreshInterval under 10s',
    (spec) => {
      spec.refreshInterval = '1s';
    },
    'spec.refreshInterval',
    'spec.refreshInterval must be a duration from 10s to 24h',
  ),
  // SecretReference: what to copy
  onReference(
    'neither data nor dataFrom',
    (spec) => {
      delete spec.data;
      delete spec.dataFrom;
    },
    'spec',
    'spec must set data, dataFrom, dynamic or several of them',
  ),
  onReference(
    'a dynamic credential from both a database and an AWS role',
    (spec) => {
      spec.dynamic = {
        database: { role: 'elt-reader' },
        awsRole: { roleArn: 'arn:aws:iam::123456789012:role/elt-s3-reader' },
      };
    },
    'spec.dynamic',
    'dynamic must set exactly one of database',
  ),
  onReference(
    'a dynamic credential whose username and password share a key',
    (spec) => {
      spec.dynamic = { database: { role: 'elt-reader' }, usernameKey: 'login', passwordKey: 'login' };
    },
    'spec.dynamic',
    'dynamic.usernameKey and dynamic.passwordKey must differ',
  ),
  onReference(
    'a dynamic credential renewed in increments under 10s',
    (spec) => {
      spec.dynamic = { database: { role: 'elt-reader' }, renewalIncrement: '5s' };
    },
    'spec.dynamic.renewalIncrement',
    'dynamic.renewalIncrement must be a duration from 10s to 24h',
  ),
  onReference(
    'a renewal increment for an STS session, which cannot be renewed',
    (spec) => {
      spec.dynamic = {
        awsRole: { roleArn: 'arn:aws:iam::123456789012:role/elt-s3-reader' },
        renewalIncrement: '5m',
      };
    },
    'spec.dynamic',
    'dynamic.renewalIncrement needs dynamic.database',
  ),
  onReference(
    'a dynamic AWS role that is not an IAM role ARN',
    (spec) => {
      spec.dynamic = { awsRole: { roleArn: 'elt-s3-reader' } };
    },
    'spec.dynamic.awsRole.roleArn',
    'dynamic.awsRole.roleArn must be an IAM role ARN',
  ),
  onReference(
    'a Secret key with a space',
    (spec) => {
      spec.data![0]!.key = 'db password';
    },
    'spec.data[0].key',
    secretKeyMessage,
  ),
  onReference(
    'a Secret key starting with ..',
    (spec) => {
      spec.data![0]!.key = '..data';
    },
    'spec.data[0].key',
    secretKeyMessage,
  ),
  onReference(
    'two data entries with one key',
    (spec) => {
      spec.data!.push({ key: 'password', remote: { name: 'elt/other' } });
    },
    'spec.data',
    'spec.data keys must be unique',
  ),
  onReference(
    'a remote name with whitespace',
    (spec) => {
      spec.data![0]!.remote.name = 'elt/ware house';
    },
    'spec.data[0].remote.name',
    'remote.name must be non-empty and contain no whitespace',
  ),
  onReference(
    'a property path with an empty step',
    (spec) => {
      spec.data![0]!.remote.property = 'credentials..password';
    },
    'spec.data[0].remote.property',
    'remote.property must be a dotted path',
  ),
  onReference(
    'a property path with a backslash that escapes neither a dot nor a backslash',
    (spec) => {
      spec.data![0]!.remote.property = 'credentials\\password';
    },
    'spec.data[0].remote.property',
    'a backslash only escapes a dot',
  ),
  onReference(
    'a property path ending in a lone backslash',
    (spec) => {
      spec.data![0]!.remote.property = 'credentials.password\\';
    },
    'spec.data[0].remote.property',
    'remote.property must be a dotted path',
  ),
  onReference(
    'an unknown decoding',
    (spec) => {
      (spec.data![0]! as { decoding: string }).decoding = 'hex';
    },
    'spec.data[0].decoding',
    'supported values: "none", "base64", "base64url", "auto"',
  ),
  onReference(
    'an unknown dataFrom decoding',
    (spec) => {
      (spec.dataFrom![0]! as { decoding: string }).decoding = 'base32';
    },
    'spec.dataFrom[0].decoding',
    'supported values: "none", "base64", "base64url", "auto"',
  ),
  onReference(
    'an empty remote version',
    (spec) => {
      spec.data![0]!.remote.version = '';
    },
    'spec.data[0].remote.version',
    'remote.version must be non-empty and contain no whitespace',
  ),
  onReference(
    'a dataFrom version with a space',
    (spec) => {
      spec.dataFrom![0]!.remote!.version = 'v 2';
    },
    'spec.dataFrom[0].remote.version',
    'remote.version must be non-empty and contain no whitespace',
  ),
  onReference(
    'a dataFrom rewrite step that sets two methods',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ prefix: 'TAP_', case: 'upper' }];
    },
    'spec.dataFrom[0].rewrite[0]',
    'each rewrite step sets exactly one of regexp, prefix or case',
  ),
  onReference(
    'a dataFrom rewrite step that sets nothing',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{}];
    },
    'spec.dataFrom[0].rewrite[0]',
    'each rewrite step sets exactly one of regexp, prefix or case',
  ),
  onReference(
    'a dataFrom rewrite regexp that repeats a repeated group, (a+)+, which can backtrack for exponential time',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ regexp: { source: '^(a+)+$', target: 'x' } }];
    },
    'spec.dataFrom[0].rewrite[0].regexp.source',
    'may not repeat a group that itself holds a repetition',
  ),
  // SecretReference: dataFrom find
  onReference(
    'a dataFrom entry with both remote and find',
    (spec) => {
      spec.dataFrom![0]!.find = { path: 'meltano/' };
    },
    'spec.dataFrom[0]',
    'each dataFrom entry sets exactly one of remote (one JSON secret) or find',
  ),
  onReference(
    'a dataFrom entry with neither remote nor find',
    (spec) => {
      delete spec.dataFrom![0]!.remote;
    },
    'spec.dataFrom[0]',
    'each dataFrom entry sets exactly one of remote (one JSON secret) or find',
  ),
  onReference(
    'a find with no path, name or tags, which would list the whole store',
    (spec) => {
      spec.dataFrom![1]!.find = { maxSecrets: 5 };
    },
    'spec.dataFrom[1].find',
    'find must set path, name, tags or several of them',
  ),
  onReference(
    'a find that may read more than 100 secrets',
    (spec) => {
      spec.dataFrom![1]!.find!.maxSecrets = 101;
    },
    'spec.dataFrom[1].find.maxSecrets',
    'should be less than or equal to 100',
  ),
  onReference(
    'a find that may read no secret',
    (spec) => {
      spec.dataFrom![1]!.find!.maxSecrets = 0;
    },
    'spec.dataFrom[1].find.maxSecrets',
    'should be greater than or equal to 1',
  ),
  onReference(
    'a find name regexp that repeats a repeated group',
    (spec) => {
      spec.dataFrom![1]!.find!.name = { regexp: '^(a+)+$' };
    },
    'spec.dataFrom[1].find.name.regexp',
    'find name regexp may not repeat a group that itself holds a repetition',
  ),
  onReference(
    'a find name regexp that does not compile',
    (spec) => {
      spec.dataFrom![1]!.find!.name = { regexp: '([a-z]' };
    },
    'spec.dataFrom[1].find.name.regexp',
    'find name regexp must be a valid regular expression',
  ),
  onReference(
    'a find path with a space',
    (spec) => {
      spec.dataFrom![1]!.find!.path = 'meltano/tap postgres/';
    },
    'spec.dataFrom[1].find.path',
    'find.path must contain no whitespace',
  ),
  onReference(
    'a find with an empty tags map',
    (spec) => {
      spec.dataFrom![1]!.find!.tags = {};
    },
    'spec.dataFrom[1].find.tags',
    'should have at least 1 properties',
  ),
  onReference(
    'a dataFrom rewrite regexp with a backreference',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ regexp: { source: '(a)\\1', target: 'x' } }];
    },
    'spec.dataFrom[0].rewrite[0].regexp.source',
    'may not use backreferences',
  ),
  onReference(
    'a dataFrom rewrite regexp that does not compile',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ regexp: { source: '([a-z]', target: 'x' } }];
    },
    'spec.dataFrom[0].rewrite[0].regexp.source',
    'rewrite regexp source must be a valid regular expression',
  ),
  onReference(
    'a dataFrom rewrite regexp longer than 256 characters',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ regexp: { source: 'a'.repeat(257), target: 'x' } }];
    },
    'spec.dataFrom[0].rewrite[0].regexp.source',
    'Too long',
  ),
  onReference(
    'more than 8 dataFrom rewrite steps',
    (spec) => {
      spec.dataFrom![0]!.rewrite = Array.from({ length: 9 }, () => ({ case: 'upper' as const }));
    },
    'spec.dataFrom[0].rewrite',
    'Too many',
  ),
  onReference(
    'a dataFrom rewrite prefix with a space',
    (spec) => {
      spec.dataFrom![0]!.rewrite = [{ prefix: 'TAP POSTGRES' }];
    },
    'spec.dataFrom[0].rewrite[0].prefix',
    "rewrite prefix may hold only letters, digits, '-', '_' or '.'",
  ),
  onReference(
    'an unknown dataFrom rewrite case',
    (spec) => {
      (spec.dataFrom![0]!.rewrite as unknown) = [{ case: 'title' }];
    },
    'spec.dataFrom[0].rewrite[0].case',
    'supported values: "upper", "lower"',
  ),
  // SecretReference: store, target, consumers
  onReference(
    'a store name in capitals',
    (spec) => {
      spec.storeRef.name = 'Vault-ELT';
    },
    'spec.storeRef.name',
    'spec.storeRef.name must be a store name',
  ),
  onReference(
    'a store kind that does not exist',
    (spec) => {
      spec.storeRef.kind = 'Store' as 'SecretStore';
    },
    'spec.storeRef.kind',
    'supported values: "SecretStore", "ClusterSecretStore"',
  ),
  onReference(
    'a target name that is not a DNS subdomain',
    (spec) => {
      spec.target!.name = 'Warehouse_Credentials';
    },
    'spec.target.name',
    'spec.target.name must be a valid Secret name (DNS-1123 subdomain)',
  ),
  onReference(
    'a service-account-token target type',
    (spec) => {
      spec.target!.type = 'kubernetes.io/service-account-token';
    },
    'spec.target.type',
    'spec.target.type cannot be kubernetes.io/service-account-token',
  ),
  onReference(
    'a target label under secretlink.dev/',
    (spec) => {
      spec.target!.labels = { 'secretlink.dev/reference': 'other' };
    },
    'spec.target.labels',
    'spec.target.labels must not use keys under secretlink.dev/',
  ),
  onReference(
    'a template key that is not a Secret key',
    (spec) => {
      spec.target!.template!.data = { 'database url': 'postgresql://{{ host }}' };
    },
    'spec.target.template.data',
    'spec.target.template.data keys must be valid Secret data keys',
  ),
  onReference(
    'a template key starting with ..',
    (spec) => {
      spec.target!.template!.data = { '..data': 'x' };
    },
    'spec.target.template.data',
    'spec.target.template.data keys must be valid Secret data keys',
  ),
  onReference(
    'a template with no keys',
    (spec) => {
      spec.target!.template!.data = {};
    },
    'spec.target.template.data',
    'should have at least 1 properties',
  ),
  onReference(
    'a template without data',
    (spec) => {
      (spec.target!.template as unknown) = { mergePolicy: 'Merge' };
    },
    'spec.target.template.data',
    'Required value',
  ),
  onReference(
    'a template longer than 32768 characters',
    (spec) => {
      spec.target!.template!.data = { big: `{{ password }}${'x'.repeat(32_768)}` };
    },
    'spec.target.template.data.big',
    'Too long',
  ),
  onReference(
    'a template with more than 64 keys',
    (spec) => {
      spec.target!.template!.data = Object.fromEntries(
        Array.from({ length: 65 }, (_, index) => [`key-${index}`, 'x']),
      );
    },
    'spec.target.template.data',
    'must have at most 64 items',
  ),
  onReference(
    'an unknown template mergePolicy',
    (spec) => {
      (spec.target!.template!.mergePolicy as unknown) = 'Overwrite';
    },
    'spec.target.template.mergePolicy',
    'supported values: "Replace", "Merge"',
  ),
  onReference(
    'consumers that select nothing',
    (spec) => {
      spec.consumers = { serviceAccountNames: ['meltano'] };
    },
    'spec.consumers',
    'spec.consumers must select Jobs by at least one label',
  ),
  onReference(
    'consumers with an empty matchLabels',
    (spec) => {
      spec.consumers = { matchLabels: {} };
    },
    'spec.consumers',
    'spec.consumers must select Jobs by at least one label',
  ),
  onReference(
    'an In requirement without values',
    (spec) => {
      spec.consumers.matchExpressions = [{ key: 'tier', operator: 'In' }];
    },
    'spec.consumers.matchExpressions[0].values',
    'values must list at least one value for In and NotIn',
  ),
  onReference(
    'a consumer label value that is not a label value',
    (spec) => {
      spec.consumers.matchLabels = { app: 'meltano nightly' };
    },
    'spec.consumers.matchLabels[app]',
    'matchLabels values must be label values',
  ),
  // Stores: one provider, one auth method
  onStore(
    'an assumable role that is not an IAM role ARN',
    awsStore,
    (provider) => {
      provider.aws!.assumableRoles = ['s3-reader'];
    },
    'spec.provider.aws.assumableRoles[0]',
    'assumableRoles entries must be IAM role ARNs',
  ),
  onStore(
    'a store with two providers',
    awsStore,
    (provider) => {
      provider.gcp = gcpStore().spec.provider.gcp;
    },
    'spec.provider',
    'spec.provider must set exactly one of aws, gcp or vault',
  ),
  onStore(
    'a store with no provider',
    awsStore,
    (provider) => {
      delete provider.aws;
    },
    'spec.provider',
    'spec.provider must set exactly one of aws, gcp or vault',
  ),
  onStore(
    'AWS auth with two methods',
    awsStore,
    (provider) => {
      provider.aws!.auth.defaultChain = {};
    },
    'spec.provider.aws.auth',
    'auth must set exactly one of defaultChain, webIdentity or secretRef',
  ),
  onStore(
    'Vault auth with no method',
    vaultStore,
    (provider) => {
      provider.vault!.auth = {};
    },
    'spec.provider.vault.auth',
    'auth must set exactly one of kubernetes, appRole or tokenSecretRef',
  ),
  onStore(
    'GCP auth with two methods',
    gcpStore,
    (provider) => {
      provider.gcp!.auth.applicationDefault = {};
    },
    'spec.provider.gcp.auth',
    'auth must set exactly one of applicationDefault, workloadIdentity or secretRef',
  ),
  // Stores: the operator's own identity and plaintext
  onStore(
    'a SecretStore using the operator’s own AWS identity',
    awsStore,
    (provider) => {
      provider.aws!.auth = { defaultChain: {} };
    },
    'spec.provider.aws.auth.defaultChain',
    'which only a ClusterSecretStore may use',
  ),
  onStore(
    'a SecretStore using the operator’s own Google identity',
    gcpStore,
    (provider) => {
      provider.gcp!.auth = { applicationDefault: {} };
    },
    'spec.provider.gcp.auth.applicationDefault',
    'which only a ClusterSecretStore may use',
  ),
  onStore(
    'a Vault server over plain http beyond loopback',
    vaultStore,
    (provider) => {
      provider.vault!.server = 'http://vault.example.com:8200';
    },
    'spec.provider.vault.server',
    'plain http is allowed only to loopback',
  ),
  onStore(
    'an AWS endpoint over plain http beyond loopback',
    awsStore,
    (provider) => {
      provider.aws!.endpoint = 'http://secretsmanager.example.com';
    },
    'spec.provider.aws.endpoint',
    'plain http is allowed only to loopback',
  ),
  // Stores: where credentials come from
  onStore(
    'a SecretStore reading a key from another namespace',
    awsStore,
    (provider) => {
      provider.aws!.auth.secretRef!.accessKeyId.namespace = 'other';
    },
    'spec.provider.aws.auth.secretRef.accessKeyId.namespace',
    'a SecretStore reads credentials only from its own namespace',
  ),
  onStore(
    'a SecretStore using a ServiceAccount of another namespace',
    vaultStore,
    (provider) => {
      provider.vault!.auth.kubernetes!.serviceAccountRef.namespace = 'other';
    },
    'spec.provider.vault.auth.kubernetes.serviceAccountRef.namespace',
    'a SecretStore reads credentials only from its own namespace',
  ),
  onStore(
    'a ClusterSecretStore credential without a namespace',
    clusterStore,
    (provider) => {
      delete provider.vault!.auth.tokenSecretRef!.namespace;
    },
    'spec.provider.vault.auth.tokenSecretRef.namespace',
    'namespace is required in a ClusterSecretStore',
  ),
  onStore(
    'GCP workload identity without an audience',
    gcpStore,
    (provider) => {
      delete provider.gcp!.auth.workloadIdentity!.serviceAccountRef.audience;
    },
    'spec.provider.gcp.auth.workloadIdentity.serviceAccountRef.audience',
    'workloadIdentity.serviceAccountRef.audience is required',
  ),
  onStore(
    'a credential Secret name in capitals',
    awsStore,
    (provider) => {
      provider.aws!.auth.secretRef!.secretAccessKey.name = 'AWS_KEYS';
    },
    'spec.provider.aws.auth.secretRef.secretAccessKey.name',
    'name must be a valid Secret name',
  ),
  // Stores: addresses
  onStore(
    'an AWS region that is not one',
    awsStore,
    (provider) => {
      provider.aws!.region = 'Europe';
    },
    'spec.provider.aws.region',
    'region must be an AWS region name such as eu-west-1',
  ),
  onStore(
    'an AWS endpoint that is not a URL',
    awsStore,
    (provider) => {
      provider.aws!.endpoint = 'localhost:5000';
    },
    'spec.provider.aws.endpoint',
    'endpoint must be an http or https URL',
  ),
  onStore(
    'a role ARN that is not an IAM role',
    awsStore,
    (provider) => {
      provider.aws!.auth = {
        webIdentity: { roleArn: 'arn:aws:s3:::bucket', serviceAccountRef: { name: 'aws-auth' } },
      };
    },
    'spec.provider.aws.auth.webIdentity.roleArn',
    'roleArn must be an IAM role ARN',
  ),
  onStore(
    'a GCP endpoint with a scheme',
    gcpStore,
    (provider) => {
      provider.gcp!.endpoint = 'https://secretmanager.googleapis.com';
    },
    'spec.provider.gcp.endpoint',
    'endpoint must be host:port',
  ),
  onStore(
    'a GCP project id with capitals',
    gcpStore,
    (provider) => {
      provider.gcp!.projectID = 'Acme Analytics';
    },
    'spec.provider.gcp.projectID',
    'projectID must be a Google Cloud project id',
  ),
  onStore(
    'a Vault server without a scheme',
    vaultStore,
    (provider) => {
      provider.vault!.server = 'vault.example.com:8200';
    },
    'spec.provider.vault.server',
    'server must be an http or https URL',
  ),
  onStore(
    'a KV mount with slashes at the ends',
    vaultStore,
    (provider) => {
      provider.vault!.kv = { mount: '/secret/' };
    },
    'spec.provider.vault.kv.mount',
    'kv.mount must be a mount path without leading or trailing slashes',
  ),
  onStore(
    'a KV version 3',
    vaultStore,
    (provider) => {
      provider.vault!.kv = { version: 3 as 2 };
    },
    'spec.provider.vault.kv.version',
    'supported values: "1", "2"',
  ),
  // ClusterSecretStore: who may use it
  onStore(
    'a ClusterSecretStore without allowedNamespaces',
    clusterStore,
    (_provider, object) => {
      delete (object as { spec: Partial<ClusterSecretStoreSpec> }).spec.allowedNamespaces;
    },
    'spec.allowedNamespaces',
    'Required value',
  ),
  onStore(
    'allowedNamespaces with neither names nor selector',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.allowedNamespaces = {};
    },
    'spec.allowedNamespaces',
    'allowedNamespaces must set names, selector or both',
  ),
  onStore(
    'an allowed namespace name with capitals',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.allowedNamespaces = { names: ['Analytics'] };
    },
    'spec.allowedNamespaces.names[0]',
    'allowedNamespaces.names entries must be namespace names',
  ),
  // ClusterSecretStore: which remotes each namespace may reach
  onStore(
    'an empty remoteAccess list',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.remoteAccess = [];
    },
    'spec.remoteAccess',
    'should have at least 1 items',
  ),
  onStore(
    'a remoteAccess rule with neither names nor prefixes',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.remoteAccess = [{ namespaces: { names: ['analytics'] } }];
    },
    'spec.remoteAccess[0]',
    'each remoteAccess rule must set names, prefixes or both',
  ),
  onStore(
    'a remoteAccess rule that selects no namespaces',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.remoteAccess = [{ namespaces: {}, prefixes: ['meltano/'] }];
    },
    'spec.remoteAccess[0].namespaces',
    'remoteAccess namespaces must set names, selector or both',
  ),
  onStore(
    'a remoteAccess rule without namespaces',
    clusterStore,
    (_provider, object) => {
      (object as ClusterSecretStore).spec.remoteAccess = [
        { prefixes: ['meltano/'] } as unknown as NonNullable<ClusterSecretStoreSpec['remoteAccess']>[number],
      ];
    },
    'spec.remoteAccess[0].namespaces',
    'Required value',
  ),
];
