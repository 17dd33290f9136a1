// `kubectl apply -k config/default` is how users install secretlink: the bundle must render and every object
// in it must be accepted by the real API server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { environment, kubectl } from '../support/cluster.ts';
import { installCrds } from '../support/operator.ts';

const exec = promisify(execFile);

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
    expect(kinds.some((kind) => kind.startsWith('ValidatingAdmissionPolicy/'))).toBe(true);
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
