// How scripts/release/chart.ts turns config/'s objects into chart files; the integration test renders the
// result with helm and compares it with `kubectl kustomize config/default`.
import { describe, expect, it } from 'vitest';
import { chartFiles } from '../../scripts/release/chart.ts';
import type { KubeObject } from '../../scripts/release/objects.ts';

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'secretlink-system' } },
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'secretreferences.secretlink.dev' },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'secretlink-operator', namespace: 'secretlink-system' },
    spec: {
      replicas: 2,
      template: { spec: { containers: [{ name: 'operator', image: 'secretlink:0.1.0' }] } },
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'p' },
    spec: { validations: [{ expression: "'{{' != ''" }] },
  },
];

const perJobObjects: KubeObject[] = [
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicy',
    metadata: { name: 'secretlink-per-job-secrets' },
    spec: { mutations: [{ expression: "'{{' != ''" }] },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata: { name: 'secretlink-per-job-secrets' },
    spec: { policyName: 'secretlink-per-job-secrets' },
  },
];

const files = chartFiles({ objects, version: '1.2.3', prometheusRules: 'groups: []\n', perJobObjects });
const file = (name: string) => files.get(`charts/secretlink/${name}`) ?? '';

describe('chartFiles', () => {
  it('puts the CRDs in crds/, which Helm installs first and never deletes', () => {
    expect(file('crds/secretreferences.secretlink.dev.yaml')).toContain('kind: CustomResourceDefinition');
    expect(
      [...files.keys()].filter(
        (name) => name.includes('/templates/') && files.get(name)?.includes('CustomResourceDefinition'),
      ),
    ).toEqual([]);
  });

  it("takes the image and replicas from values whose defaults are config/'s own", () => {
    expect(file('templates/statefulset.yaml')).toContain('replicas: {{ .Values.replicas }}');
    expect(file('templates/statefulset.yaml')).toContain(
      'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
    );
    expect(file('values.yaml')).toMatch(
      /image:\n {2}repository: secretlink\n {2}tag: 0\.1\.0\nreplicas: 2\n/,
    );
    expect(file('Chart.yaml')).toContain('version: 1.2.3');
  });

  it("escapes config's own {{ so Helm renders it as written", () => {
    expect(file('templates/admission-policies.yaml')).toContain(`'{{ "{{" }}' != ''`);
  });

  it('makes the Namespace optional and keeps it on uninstall (it holds the audit volumes)', () => {
    expect(file('templates/namespace.yaml')).toMatch(
      /^# Generated[^\n]*\n\{\{- if \.Values\.createNamespace \}\}\n/,
    );
    expect(file('templates/namespace.yaml')).toContain('helm.sh/resource-policy: keep');
  });

  it('renders the per-Job component only when perJobIsolation.enabled is set, off by default', () => {
    const perJob = file('templates/per-job-admission.yaml');
    expect(perJob).toMatch(/^# Generated[^\n]*\n\{\{- if \.Values\.perJobIsolation\.enabled \}\}\n/);
    expect(perJob.trimEnd().endsWith('{{- end }}')).toBe(true);
    expect(perJob).toContain('kind: MutatingAdmissionPolicy\n');
    expect(perJob).toContain('kind: MutatingAdmissionPolicyBinding\n');
    expect(perJob).toContain(`'{{ "{{" }}' != ''`);
    expect(file('values.yaml')).toContain('perJobIsolation:\n  enabled: false\n');
    // Not in the always-rendered admission policies.
    expect(file('templates/admission-policies.yaml')).not.toContain('MutatingAdmissionPolicy');
  });
});
