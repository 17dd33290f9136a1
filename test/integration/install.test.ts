// `kubectl apply -k config/default` is how users install secretlink: the bundle must render and every object
// in it must be accepted by the real API server.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { environment, kubectl } from '../support/cluster.ts';
import { installCrds } from '../support/operator.ts';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests of many kinds, read field by field.
type Manifest = any;

function objects(yaml: string): Manifest[] {
  return parseAllDocuments(yaml).map((doc) => doc.toJS() as Manifest);
}

describe('install bundle (config/default)', () => {
  let rendered: string;
  beforeAll(async () => {
    await installCrds();
    rendered = (await kubectl('kustomize', 'config/default')).stdout;
  });

  it('holds the CRDs, RBAC, the operator StatefulSet and the admission policy', () => {
    const kinds = parseAllDocuments(rendered).map((doc) => {
      const object = doc.toJS() as { kind: string; metadata: { name: string } };
      return `${object.kind}/${object.metadata.name}`;
    });
    expect(kinds).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition/secretreferences.secretlink.dev',
        'CustomResourceDefinition/secretstores.secretlink.dev',
        'CustomResourceDefinition/clustersecretstores.secretlink.dev',
        'ClusterRole/secretlink-operator',
        'ServiceAccount/secretlink-operator',
        'StatefulSet/secretlink-operator',
        'Namespace/secretlink-system',
      ]),
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'ValidatingAdmissionPolicy/secretlink-job-pods-only',
        'ValidatingAdmissionPolicy/secretlink-operator-secrets',
        'ValidatingAdmissionPolicy/secretlink-operator-tokens',
        'ValidatingAdmissionPolicy/secretlink-operator-objects',
        'ValidatingAdmissionPolicy/secretlink-operator-lease',
        'ValidatingAdmissionPolicy/secretlink-operator-events',
        'ValidatingAdmissionPolicy/secretlink-reserved-objects',
        'ValidatingAdmissionPolicy/secretlink-reserved-secret-marks',
      ]),
    );
  });

  it("names the operator in every policy's first variable, which the documented patch replaces in all of them", async () => {
    const overlay = await mkdtemp(path.join(repoRoot, '.overlay-'));
    try {
      await writeFile(
        path.join(overlay, 'kustomization.yaml'),
        [
          'resources: [../config/default]',
          'patches:',
          '  - target:',
          '      kind: ValidatingAdmissionPolicy',
          '      labelSelector: app.kubernetes.io/component in (operator-bounds, reserved-to-operator)',
          '    patch: |-',
          '      - op: replace',
          '        path: /spec/variables/0/expression',
          `        value: "['system:serviceaccount:platform:secretlink']"`,
        ].join('\n'),
      );
      const policies = objects((await kubectl('kustomize', overlay)).stdout).filter(
        (object) => object.kind === 'ValidatingAdmissionPolicy',
      );
      const first = Object.fromEntries(
        policies.map((policy) => [policy.metadata.name, policy.spec.variables[0]]),
      );
      const boundsOperator = (policy: (typeof policies)[number]) =>
        ['operator-bounds', 'reserved-to-operator'].includes(
          policy.metadata.labels?.['app.kubernetes.io/component'],
        );
      expect(policies.filter(boundsOperator)).toHaveLength(7);
      for (const name of policies.filter(boundsOperator).map((policy) => policy.metadata.name)) {
        const variable = first[name];
        expect({ name, variable }).toEqual({
          name,
          variable: { name: 'operatorUsers', expression: "['system:serviceaccount:platform:secretlink']" },
        });
      }
      expect(first['secretlink-job-pods-only'].name).toBe('jobControllers');
    } finally {
      await rm(overlay, { recursive: true, force: true });
    }
  });

  it('grants the operator no ServiceAccount tokens: namespaces opt accounts in by name', () => {
    const rules = objects(rendered)
      .filter((object) => object.kind === 'ClusterRole' || object.kind === 'Role')
      .flatMap((role) => role.rules as { resources: string[] }[]);
    expect(rules.flatMap((rule) => rule.resources)).not.toContain('serviceaccounts/token');
  });

  it("with the --namespaces overlay, binds the operator's namespaced rights per namespace, never cluster-wide", async () => {
    const overlay = objects((await kubectl('kustomize', 'config/namespaced')).stdout);
    const bindings = overlay.filter((object) => object.kind.endsWith('RoleBinding'));
    const clusterWide = bindings.filter((binding) => binding.kind === 'ClusterRoleBinding');
    expect(clusterWide.map((binding) => binding.roleRef.name)).toEqual(['secretlink-operator-cluster-scope']);
    const clusterScope = overlay.find(
      (object) =>
        object.kind === 'ClusterRole' && object.metadata.name === 'secretlink-operator-cluster-scope',
    );
    // What stays cluster-wide holds no Secret.
    expect(clusterScope.rules.flatMap((rule: { resources: string[] }) => rule.resources).sort()).toEqual([
      'clustersecretstores',
      'clustersecretstores/status',
      'namespaces',
    ]);
    expect(
      bindings
        .filter((binding) => binding.roleRef.name === 'secretlink-operator')
        .map((binding) => ({
          kind: binding.kind,
          namespace: binding.metadata.namespace,
          subjects: binding.subjects,
        })),
    ).toEqual([
      {
        kind: 'RoleBinding',
        namespace: 'analytics',
        subjects: [{ kind: 'ServiceAccount', name: 'secretlink-operator', namespace: 'secretlink-system' }],
      },
    ]);
    const operator = overlay.find((object) => object.kind === 'StatefulSet');
    expect(operator.spec.template.spec.containers[0].args).toContain('--namespaces=analytics');
  });

  it('is accepted by the API server (server-side dry run)', async () => {
    const { kubeconfig, kubectl: binary } = environment();
    const child = exec(binary, [
      '--kubeconfig',
      kubeconfig,
      'apply',
      '--server-side',
      '--dry-run=server',
      '-f',
      '-',
    ]);
    child.child.stdin!.end(rendered);
    const { stdout } = await child;
    expect(stdout).toContain('statefulset.apps/secretlink-operator serverside-applied (server dry run)');
    expect(stdout).toContain(
      'clusterrole.rbac.authorization.k8s.io/secretlink-operator serverside-applied (server dry run)',
    );
  });

  it('runs the operator as non-root on a read-only root filesystem', () => {
    const deployment = parseAllDocuments(rendered)
      .map((doc) => doc.toJS())
      .find((object) => object.kind === 'StatefulSet');
    const container = deployment.spec.template.spec.containers[0];
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it("keeps each replica's signed audit file on its own persistent volume and the signing key off it", () => {
    const statefulSet = parseAllDocuments(rendered)
      .map((doc) => doc.toJS())
      .find((object) => object.kind === 'StatefulSet');
    const pod = statefulSet.spec.template.spec;
    const args: string[] = pod.containers[0].args;
    expect(args).toContain('--audit-file=/var/log/secretlink/audit.jsonl');
    expect(args).toContain('--audit-signing-key-file=/etc/secretlink/audit-key/private.pem');
    expect(
      statefulSet.spec.volumeClaimTemplates.map(
        (claim: { metadata: { name: string } }) => claim.metadata.name,
      ),
    ).toEqual(['audit']);
    expect(pod.volumes.some((volume: { name: string }) => volume.name === 'audit')).toBe(false);
    expect(pod.volumes).toContainEqual(
      expect.objectContaining({
        secret: expect.objectContaining({ secretName: 'secretlink-audit-signing-key' }),
      }),
    );
  });
});
