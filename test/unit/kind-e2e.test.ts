// `make kind-e2e` cannot run on a machine without Docker, so what it decides is proven here: the cluster's
// config, the message for a machine that lacks something, the image and address it picks, and how the
// end-to-end suite reads the choice of target (test/e2e/target.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  e2eTargetFrom,
  insecureHttpSetting,
  kindApiServerPort,
  kindAuditDir,
  operatorPlacement,
} from '../e2e/target.ts';
import { repoRoot } from '../env/components.ts';
import {
  dockerfileBaseImage,
  kindClusterConfig,
  kindNodeImage,
  missingTools,
  networkGateway,
  suiteVariables,
} from '../kind/plan.ts';

const run = {
  kubeconfig: '/tmp/secretlink-kind-x/kubeconfig',
  cluster: 'secretlink-e2e',
  kind: 'kind',
  storeAddress: '172.18.0.1',
  jobImage: 'docker.io/library/node:24.21.0-bookworm-slim',
};

describe('the kind cluster', () => {
  it('is one Kubernetes 1.36 node, pinned by digest, labelled as the test overlay’s operator pod selects', () => {
    expect(kindNodeImage).toMatch(/^kindest\/node:v1\.36\.\d+@sha256:[0-9a-f]{64}$/);
    const config = parse(kindClusterConfig());
    expect(config).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
    expect(config.nodes).toHaveLength(1);
    const overlay = readFileSync(path.join(repoRoot, 'test/e2e/overlay/statefulset.yaml'), 'utf8');
    const statefulSet = parseAllDocuments(overlay)[0]!.toJS();
    expect(config.nodes[0]).toEqual({
      role: 'control-plane',
      labels: statefulSet.spec.template.spec.nodeSelector,
    });
  });

  it('runs Job pods on the public base the Dockerfile builds the operator on', () => {
    expect(dockerfileBaseImage(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'))).toBe(
      'docker.io/library/node:24.21.0-bookworm-slim',
    );
    expect(() => dockerfileBaseImage('FROM scratch\n')).toThrow(/ARG NODE_IMAGE/);
  });

  it('has the stores listen on the IPv4 gateway of kind’s network', () => {
    const inspected = JSON.stringify([
      { Subnet: 'fc00:f853:ccd:e793::/64', Gateway: 'fc00:f853:ccd:e793::1' },
      { Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' },
    ]);
    expect(networkGateway(inspected)).toBe('172.18.0.1');
    expect(() => networkGateway(JSON.stringify([{ Subnet: 'fc00::/64', Gateway: 'fc00::1' }]))).toThrow(
      /no IPv4 gateway/,
    );
  });
});

describe('a machine that cannot run make kind-e2e', () => {
  it('is told everything it lacks at once, and how to get it', () => {
    const message = missingTools({ docker: false, dockerDaemon: false, kind: false, go: false });
    expect(message).toContain('docker is not on PATH');
    expect(message).toContain('kind is not on PATH, and go is not either');
    expect(message).toContain('go install sigs.k8s.io/kind@v');
    expect(message).toContain('make test-e2e');
  });

  it('is told when docker is installed but its daemon does not answer', () => {
    expect(missingTools({ docker: true, dockerDaemon: false, kind: true, go: false })).toContain(
      '`docker info` fails',
    );
  });

  it('may lack kind when Go can build it', () => {
    expect(missingTools({ docker: true, dockerDaemon: true, kind: false, go: true })).toBeUndefined();
  });
});

describe('the end-to-end target', () => {
  it('is the real node unless kind is asked for by name', () => {
    expect(e2eTargetFrom({})).toEqual({ name: 'real-node' });
    expect(() => e2eTargetFrom({ SECRETLINK_E2E_TARGET: 'minikube' })).toThrow(/use real-node .* or kind/);
  });

  it('is the cluster make kind-e2e created, from the variables it sets', () => {
    expect(e2eTargetFrom(suiteVariables(run))).toEqual({
      name: 'kind',
      cluster: 'secretlink-e2e',
      kind: 'kind',
      node: 'secretlink-e2e-control-plane',
      storeAddress: '172.18.0.1',
      jobImage: run.jobImage,
    });
  });

  it('names every variable kind lacks', () => {
    expect(() => e2eTargetFrom({ SECRETLINK_E2E_TARGET: 'kind' })).toThrow(
      /needs SECRETLINK_TEST_KUBECONFIG, SECRETLINK_KIND_CLUSTER, SECRETLINK_KIND, SECRETLINK_KIND_STORE_ADDRESS, SECRETLINK_KIND_JOB_IMAGE/,
    );
  });

  it('never has the stores listen on every interface, on loopback or on a name', () => {
    for (const storeAddress of ['0.0.0.0', '::', '127.0.0.1', 'host.docker.internal'])
      expect(() => e2eTargetFrom(suiteVariables({ ...run, storeAddress })), storeAddress).toThrow(
        /one IP address of this machine/,
      );
  });

  it('places the operator pod: the run’s API server port and folder here, kind’s own inside its node', () => {
    const here = { server: 'https://127.0.0.1:38123', auditDir: '/tmp/secretlink-env-x/audit' };
    expect(operatorPlacement({ name: 'real-node' }, here)).toEqual({
      apiServerPort: '38123',
      auditDirOnNode: '/tmp/secretlink-env-x/audit',
    });
    expect(operatorPlacement(e2eTargetFrom(suiteVariables(run)), here)).toEqual({
      apiServerPort: String(kindApiServerPort),
      auditDirOnNode: kindAuditDir,
    });
  });

  it('allows plain http to a store only off loopback, as a user reaching moto over the bridge must', () => {
    expect(insecureHttpSetting('http://127.0.0.1:5000')).toEqual({});
    expect(insecureHttpSetting('http://172.18.0.1:5000')).toEqual({ allowInsecureHttp: true });
  });
});
