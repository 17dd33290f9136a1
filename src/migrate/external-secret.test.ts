// ExternalSecrets as data teams write them (dbt, Meltano, Airbyte), converted to SecretReferences: what is
// carried over, and what the report says about the rest.
import { describe, expect, it } from 'vitest';
import type { SecretReferenceSpec } from '../api/types.ts';
import { migrate } from './convert.ts';
import type { Severity } from './findings.ts';
import { parseDocuments } from './yaml-io.ts';

function convert(yaml: string) {
  const result = migrate(parseDocuments(yaml));
  const reference = result.manifests[0] as { kind: string; spec: SecretReferenceSpec; metadata: unknown };
  const findings = result.findings.map((finding) => [finding.severity, finding.field] as [Severity, string]);
  return { reference, findings, messages: result.findings.map((finding) => finding.message), result };
}

const header = `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: { name: warehouse, namespace: analytics }
spec:
  secretStoreRef: { name: aws-warehouse, kind: SecretStore }
`;

describe('converting an ExternalSecret', () => {
  it.each([
    {
      what: 'a dbt warehouse credential: remoteRef property and version, target name and type from the template',
      yaml: `apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: dbt-warehouse
  namespace: analytics
  labels: { app.kubernetes.io/part-of: dbt }
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  secretStoreRef: { name: aws-warehouse }
  target:
    name: dbt-warehouse-credentials
    template:
      type: kubernetes.io/basic-auth
      metadata:
        labels: { team: data }
        annotations: { owner: analytics-eng }
  data:
    - secretKey: username
      remoteRef: { key: prod/warehouse/dbt, property: credentials.user }
    - secretKey: password
      remoteRef: { key: prod/warehouse/dbt, property: credentials.password, version: AWSPREVIOUS }
`,
      spec: {
        storeRef: { name: 'aws-warehouse' },
        data: [
          { key: 'username', remote: { name: 'prod/warehouse/dbt', property: 'credentials.user' } },
          {
            key: 'password',
            remote: { name: 'prod/warehouse/dbt', property: 'credentials.password', version: 'AWSPREVIOUS' },
          },
        ],
        target: {
          name: 'dbt-warehouse-credentials',
          type: 'kubernetes.io/basic-auth',
          labels: { team: 'data' },
          annotations: { owner: 'analytics-eng' },
        },
        consumers: {},
      },
      findings: [['action', 'spec.consumers']],
    },
    {
      what: 'a Meltano tap config spread with dataFrom extract from a ClusterSecretStore, numeric Vault version',
      yaml: `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: { name: meltano-tap-postgres, namespace: elt }
spec:
  refreshInterval: 15m
  secretStoreRef: { name: vault-shared, kind: ClusterSecretStore }
  dataFrom:
    - extract: { key: elt/tap-postgres, version: 3 }
    - extract: { key: elt/target-snowflake }
`,
      spec: {
        storeRef: { kind: 'ClusterSecretStore', name: 'vault-shared' },
        dataFrom: [
          { remote: { name: 'elt/tap-postgres', version: '3' } },
          { remote: { name: 'elt/target-snowflake' } },
        ],
        consumers: {},
        refreshInterval: '15m',
      },
      findings: [
        ['info', 'spec.refreshInterval'],
        ['action', 'spec.consumers'],
      ],
    },
    {
      what: 'an Airbyte connector secret with an Airbyte-style config template',
      yaml: `${header}  target:
    template:
      engineVersion: v2
      data:
        config.json: '{"host": "{{ .host }}", "password": {{ .password | toJson }}}'
  data:
    - secretKey: host
      remoteRef: { key: airbyte/source-postgres, property: host }
    - secretKey: password
      remoteRef: { key: airbyte/source-postgres, property: password }
`,
      spec: {
        storeRef: { kind: undefined, name: 'aws-warehouse' },
        data: [
          { key: 'host', remote: { name: 'airbyte/source-postgres', property: 'host' } },
          { key: 'password', remote: { name: 'airbyte/source-postgres', property: 'password' } },
        ],
        target: {
          template: { data: { 'config.json': '{"host": "{{ host }}", "password": {{ password | json }}}' } },
        },
        consumers: {},
      },
      findings: [
        ['info', 'spec.target.template.data.config.json'],
        ['action', 'spec.consumers'],
      ],
    },
  ])('carries over $what', ({ yaml, spec, findings }) => {
    const converted = convert(yaml);
    expect(converted.reference.kind).toBe('SecretReference');
    expect(JSON.parse(JSON.stringify(converted.reference.spec))).toEqual(JSON.parse(JSON.stringify(spec)));
    expect(converted.findings).toEqual(findings);
  });

  it('keeps only the user’s metadata: name, namespace, labels and annotations other than kubectl’s', () => {
    const { reference } = convert(`apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: dbt
  namespace: analytics
  uid: 0b7c
  resourceVersion: "42"
  labels: { team: data }
  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{}" }
spec:
  secretStoreRef: { name: s }
  data: [{ secretKey: a, remoteRef: { key: b } }]
status: { refreshTime: "2024-01-01T00:00:00Z" }
`);
    expect(reference.metadata).toEqual({ name: 'dbt', namespace: 'analytics', labels: { team: 'data' } });
    expect(reference).not.toHaveProperty('status');
  });

  it('carries the templates it translates into target.template, and lists the ones it cannot', () => {
    const { reference, findings, messages } = convert(`${header}  target:
    template:
      mergePolicy: Merge
      data:
        DATABASE_URL: "postgresql://{{ .user }}:{{ .password | urlquery }}@{{ .host }}:5432/analytics"
        profiles.yml: "{{ range $k, $v := . }}{{ $k }}{{ end }}"
        token.b64: "{{ .token | b64enc }}"
  data: [{ secretKey: user, remoteRef: { key: w, property: user } }]
`);
    expect(reference.spec.target?.template).toEqual({
      data: {
        DATABASE_URL: 'postgresql://{{ user }}:{{ password | url_encode }}@{{ host }}:5432/analytics',
        'token.b64': '{{ token | base64_encode }}',
      },
      mergePolicy: 'Merge',
    });
    expect(findings.slice(0, 3)).toEqual([
      ['changed', 'spec.target.template.data.DATABASE_URL'],
      ['info', 'spec.target.template.data.token.b64'],
      ['action', 'spec.target.template.data.profiles.yml'],
    ]);
    expect(messages[0]).toContain('url_encode writes a space as %20, where urlquery wrote "+"');
    expect(messages[2]).toBe(
      'key profiles.yml is rendered by a template that is not carried over: it needs manual translation ' +
        '(control structure "range", template variables ($), control structure "end"); the Secret lacks ' +
        'profiles.yml until you write its template in target.template.data (Liquid syntax, see docs/api.md)',
    );
  });

  it('writes no template when none translates, so the Secret keeps the fetched keys, and says so', () => {
    const { reference, messages } = convert(`${header}  target:
    template:
      data: { config: "{{ if .port }}{{ .port }}{{ end }}" }
  data: [{ secretKey: port, remoteRef: { key: w, property: port } }]
`);
    expect(reference.spec.target).toBeUndefined();
    expect(messages[0]).toContain(
      'no template was carried over, so the Secret holds the fetched keys instead of config',
    );
  });

  it.each([
    {
      what: 'a dataFrom find with no path, name or tags (it would list the whole store)',
      entry: 'dataFrom: [{ find: { conversionStrategy: Default } }]',
      field: 'spec.dataFrom[0].find',
    },
    {
      what: 'a dataFrom find whose name regexp could take exponential time',
      entry: 'dataFrom: [{ find: { name: { regexp: "^(a+)+$" } } }]',
      field: 'spec.dataFrom[0].find.name.regexp',
    },
    {
      what: 'a dataFrom rewrite template other than upper or lower (keys would differ)',
      entry:
        'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ transform: { template: "{{ .value | replace \\"-\\" \\"_\\" }}" } }] }]',
      field: 'spec.dataFrom[0].rewrite[0].transform.template',
    },
    {
      what: 'a dataFrom rewrite merge step',
      entry: 'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ merge: { strategy: Extract } }] }]',
      field: 'spec.dataFrom[0].rewrite[0]',
    },
    {
      what: 'a dataFrom rewrite regexp that could backtrack for exponential time',
      entry:
        'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ regexp: { source: "^(a+)+$", target: x } }] }]',
      field: 'spec.dataFrom[0].rewrite[0].regexp.source',
    },
    {
      what: 'a dataFrom rewrite source with a Go-only named group (?P<k>)',
      entry:
        'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ regexp: { source: "(?P<k>.*)", target: "TAP_$k" } }] }]',
      field: 'spec.dataFrom[0].rewrite[0].regexp.source',
    },
    {
      what: 'a dataFrom rewrite target $name, a Go named group reference',
      entry:
        'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ regexp: { source: "(.*)", target: "TAP_$k" } }] }]',
      field: 'spec.dataFrom[0].rewrite[0].regexp.target',
    },
    {
      what: 'a dataFrom rewrite target $1x, which Go reads as the group named 1x',
      entry:
        'dataFrom: [{ extract: { key: elt/tap }, rewrite: [{ regexp: { source: "(.*)", target: "$1x" } }] }]',
      field: 'spec.dataFrom[0].rewrite[0].regexp.target',
    },
    {
      what: 'dataFrom extract of a nested property',
      entry: 'dataFrom: [{ extract: { key: elt/tap, property: config } }]',
      field: 'spec.dataFrom[0].extract.property',
    },
    {
      what: 'a generator',
      entry:
        'dataFrom: [{ sourceRef: { generatorRef: { apiVersion: generators.external-secrets.io/v1alpha1, kind: Password, name: pw } } }]',
      field: 'spec.dataFrom[0].sourceRef',
    },
    {
      what: 'an entry read from another store',
      entry: 'data: [{ secretKey: a, remoteRef: { key: b }, sourceRef: { storeRef: { name: other } } }]',
      field: 'spec.data[0].sourceRef',
    },
    {
      what: 'an entry with a decoding ESO does not have',
      entry: 'data: [{ secretKey: a, remoteRef: { key: b, decodingStrategy: Rot13 } }]',
      field: 'spec.data[0].remoteRef.decodingStrategy',
    },
    {
      what: 'an entry reading tags instead of the value',
      entry: 'data: [{ secretKey: a, remoteRef: { key: b, metadataPolicy: Fetch } }]',
      field: 'spec.data[0].remoteRef.metadataPolicy',
    },
  ])('leaves out $what and says so', ({ entry, field }) => {
    const { reference, findings } = convert(`${header}  ${entry}\n`);
    expect(reference.spec.data).toBeUndefined();
    expect(reference.spec.dataFrom).toBeUndefined();
    expect(findings).toContainEqual(['action', field]);
    // Nothing left to read: the API server will refuse the reference, and the report says so.
    expect(findings).toContainEqual(['action', 'spec']);
  });

  it('carries decodingStrategy over as decoding, and says where auto differs', () => {
    const { reference, findings } = convert(`${header}  data:
    - { secretKey: keystore, remoteRef: { key: elt/keystore, decodingStrategy: Base64 } }
    - { secretKey: token, remoteRef: { key: elt/token, decodingStrategy: Base64URL } }
    - { secretKey: maybe, remoteRef: { key: elt/maybe, decodingStrategy: Auto } }
    - { secretKey: plain, remoteRef: { key: elt/plain, decodingStrategy: None } }
  dataFrom:
    - extract: { key: elt/certs, decodingStrategy: Base64 }
    - find: { path: elt/keys/, decodingStrategy: Base64 }
`);
    expect(reference.spec.data?.map((entry) => [entry.key, entry.decoding])).toEqual([
      ['keystore', 'base64'],
      ['token', 'base64url'],
      ['maybe', 'auto'],
      ['plain', undefined],
    ]);
    expect(reference.spec.dataFrom?.map((entry) => entry.decoding)).toEqual(['base64', 'base64']);
    expect(findings.filter(([, field]) => field.endsWith('decodingStrategy'))).toEqual([
      ['info', 'spec.data[0].remoteRef.decodingStrategy'],
      ['info', 'spec.data[1].remoteRef.decodingStrategy'],
      ['changed', 'spec.data[2].remoteRef.decodingStrategy'],
      ['info', 'spec.dataFrom[0].extract.decodingStrategy'],
      ['info', 'spec.dataFrom[1].find.decodingStrategy'],
    ]);
  });

  it('carries dataFrom find over with its rewrite: path, name regexp and tags keep their meaning', () => {
    const { reference, findings, result } = convert(`${header}  dataFrom:
    - find:
        path: meltano/tap-postgres/
        name: { regexp: "^meltano/tap-postgres/[a-z_]+$" }
        tags: { team: data }
        conversionStrategy: Default
        decodingStrategy: None
      rewrite:
        - regexp: { source: "^meltano/tap-postgres/", target: "TAP_POSTGRES_" }
        - transform: { template: "{{ .value | upper }}" }
`);
    expect(reference.spec.dataFrom).toEqual([
      {
        find: {
          path: 'meltano/tap-postgres/',
          name: { regexp: '^meltano/tap-postgres/[a-z_]+$' },
          tags: { team: 'data' },
        },
        rewrite: [
          { regexp: { source: '^meltano/tap-postgres/', target: 'TAP_POSTGRES_' } },
          { case: 'upper' },
        ],
      },
    ]);
    // Only the cap is news to an ESO user; nothing is left out or changed.
    expect(findings.filter(([, field]) => field.startsWith('spec.dataFrom'))).toEqual([
      ['info', 'spec.dataFrom[0].find.maxSecrets'],
    ]);
    expect(result.findings.find((finding) => finding.severity === 'info')?.message).toContain('default 20');
  });

  it('says that find through a ClusterSecretStore needs a remoteAccess rule, and that Unicode conversion differs', () => {
    const { reference, findings, messages } = convert(`apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: { name: warehouse, namespace: analytics }
spec:
  secretStoreRef: { name: shared-aws, kind: ClusterSecretStore }
  dataFrom:
    - find: { tags: { team: data }, conversionStrategy: Unicode }
`);
    expect(reference.spec.dataFrom).toEqual([{ find: { tags: { team: 'data' } } }]);
    expect(findings).toContainEqual(['action', 'spec.dataFrom[0].find']);
    expect(findings).toContainEqual(['changed', 'spec.dataFrom[0].find.conversionStrategy']);
    expect(messages.join('\n')).toContain(
      'ClusterSecretStore "shared-aws" runs only once an administrator adds',
    );
  });

  it('carries dataFrom rewrite over: regexp steps as they are, an upper-casing transform as case: upper', () => {
    const { reference, findings } = convert(`${header}  dataFrom:
    - extract: { key: elt/tap-postgres }
      rewrite:
        - regexp: { source: "[^A-Za-z0-9]+", target: "_" }
        - transform: { template: "{{ .value | upper }}" }
        - regexp: { source: "^(.*)$", target: "TAP_POSTGRES_\${1}" }
        - transform: { template: "{{ lower .value }}" }
`);
    expect(reference.spec.dataFrom).toEqual([
      {
        remote: { name: 'elt/tap-postgres' },
        rewrite: [
          { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
          { case: 'upper' },
          { regexp: { source: '^(.*)$', target: `TAP_POSTGRES_\${1}` } },
          { case: 'lower' },
        ],
      },
    ]);
    expect(findings.filter(([, field]) => field.startsWith('spec.dataFrom'))).toEqual([]);
  });

  it.each([
    { given: '1h', written: '1h', severity: 'info' },
    { given: '1h0m0s', written: '1h0m0s', severity: 'info' },
    { given: '0', written: undefined, severity: 'changed' },
    { given: '0s', written: undefined, severity: 'changed' },
    { given: '5s', written: '10s', severity: 'changed' },
    { given: '168h', written: '24h', severity: 'changed' },
  ])('maps refreshInterval $given to $written', ({ given, written, severity }) => {
    const { reference, findings } = convert(
      `${header}  refreshInterval: "${given}"\n  data: [{ secretKey: a, remoteRef: { key: b } }]\n`,
    );
    expect(reference.spec.refreshInterval).toBe(written);
    expect(findings).toContainEqual([severity, 'spec.refreshInterval']);
  });

  it.each([
    { field: 'creationPolicy', value: 'Merge' },
    { field: 'creationPolicy', value: 'Orphan' },
    { field: 'deletionPolicy', value: 'Retain' },
    { field: 'deletionPolicy', value: 'Delete' },
    { field: 'immutable', value: 'true' },
  ])('reports target.$field: $value as not carried over', ({ field, value }) => {
    const { reference, findings } = convert(
      `${header}  target: { ${field}: ${value} }\n  data: [{ secretKey: a, remoteRef: { key: b } }]\n`,
    );
    expect(reference.spec.target).toBeUndefined();
    expect(findings).toContainEqual(['changed', `spec.target.${field}`]);
  });

  it('does not carry labels the operator reserves or labels that are templates', () => {
    const { reference, findings } = convert(`${header}  target:
    template:
      metadata:
        labels: { secretlink.dev/managed-by: me, env: "{{ .env }}", team: data }
  data: [{ secretKey: a, remoteRef: { key: b } }]
`);
    expect(reference.spec.target).toEqual({ labels: { team: 'data' } });
    expect(findings).toContainEqual([
      'action',
      'spec.target.template.metadata.labels.secretlink.dev/managed-by',
    ]);
    expect(findings).toContainEqual(['action', 'spec.target.template.metadata.labels.env']);
  });
});
