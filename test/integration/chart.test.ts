// Shipping the way platform teams install: charts/secretlink is generated from config/ and, with its default
// values, renders exactly the objects of `kubectl apply -k config/default`; it lints, installs on the local
// control plane and uninstalls without leaving the cluster refusing pods. The single-file release manifest
// holds every object of config/default.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  componentObjects,
  generatedFiles,
  perJobComponent,
  releaseManifest,
  staleFiles,
} from '../../scripts/release/generated.ts';
import { type KubeObject, kustomize, objectKey, parseObjects } from '../../scripts/release/objects.ts';
import { ensureComponent } from '../env/build.ts';
import { helm as helmComponent, repoRoot } from '../env/components.ts';
import { operatorNamespace } from '../env/install.ts';
import { consoleProgress } from '../env/progress.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  kubectl,
  statusCodeOf,
} from '../support/cluster.ts';
import { installCrds } from '../support/operator.ts';

const exec = promisify(execFile);
const chart = 'charts/secretlink';
const release = 'secretlink';

let helmBinary: string;
let helmHome: string;
let configObjects: KubeObject[];
let scratch: string | undefined;

function helm(...args: string[]) {
  return exec(helmBinary, [...args, '--kubeconfig', environment().kubeconfig], {
    cwd: repoRoot,
    maxBuffer: 32 * 1024 * 1024,
    // Helm's cache, config and data stay in the run folder, not the user's home.
    env: {
      ...process.env,
      HELM_CACHE_HOME: path.join(helmHome, 'cache'),
      HELM_CONFIG_HOME: path.join(helmHome, 'config'),
      HELM_DATA_HOME: path.join(helmHome, 'data'),
    },
  });
}

/** Objects keyed by kind/namespace/name, without what only Helm adds (its resource policy annotation). */
function byKey(objects: KubeObject[]): Record<string, KubeObject> {
  return Object.fromEntries(
    objects.map((object) => {
      const copy = structuredClone(object);
      delete copy.metadata.annotations?.['helm.sh/resource-policy'];
      if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0)
        delete copy.metadata.annotations;
      return [objectKey(copy), copy];
    }),
  );
}

beforeAll(async () => {
  helmBinary = (await ensureComponent(helmComponent, consoleProgress('[helm]'))).helm!;
  helmHome = path.join(environment().runDir, 'helm');
  await mkdir(helmHome, { recursive: true });
  configObjects = parseObjects(await kustomize(environment().kubectl, repoRoot));
});

afterAll(async () => {
  await helm('uninstall', release, '-n', operatorNamespace, '--wait').catch(() => undefined);
  if (scratch) await deleteNamespace(scratch);
});

describe('the Helm chart (charts/secretlink)', () => {
  it('is what config/ generates now (`make chart` was run after the last change to config/)', async () => {
    const files = await generatedFiles(environment().kubectl, repoRoot);
    expect(staleFiles(files, repoRoot)).toEqual([]);
  });

  it('passes helm lint --strict', async () => {
    const { stdout } = await helm('lint', '--strict', chart);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders, with its default values, exactly the objects of config/default', async () => {
    const rendered = parseObjects((await helm('template', release, chart, '--include-crds')).stdout);
    expect(Object.keys(byKey(rendered)).sort()).toEqual(Object.keys(byKey(configObjects)).sort());
    expect(byKey(rendered)).toEqual(byKey(configObjects));
  });

  it('sets the image and replicas from values, and renders the alert rules of config/prometheus on request', async () => {
    const rendered = parseObjects(
      (
        await helm(
          'template',
          release,
          chart,
          '--set',
          'image.repository=registry.example/secretlink,image.tag=1.2.3,replicas=3,prometheusRule.enabled=true',
        )
      ).stdout,
    );
    const statefulSet = rendered.find((object) => object.kind === 'StatefulSet')!;
    expect(statefulSet.spec.replicas).toBe(3);
    expect(statefulSet.spec.template.spec.containers[0].image).toBe('registry.example/secretlink:1.2.3');
    const rule = rendered.find((object) => object.kind === 'PrometheusRule')!;
    const rules = parse(await readFile(path.join(repoRoot, 'config/prometheus/rules.yaml'), 'utf8'));
    expect(rule.spec.groups).toEqual(rules.groups);
  });

  it('renders config/default with the per-Job component when perJobIsolation.enabled is set, and without it by default', async () => {
    const perJob = await componentObjects(environment().kubectl, repoRoot, perJobComponent, configObjects);
    expect(perJob.map((object) => object.kind).sort()).toEqual([
      'MutatingAdmissionPolicy',
      'MutatingAdmissionPolicyBinding',
    ]);
    const enabled = parseObjects(
      (await helm('template', release, chart, '--include-crds', '--set', 'perJobIsolation.enabled=true'))
        .stdout,
    );
    // Exactly what a kustomization listing config/default and the component installs.
    expect(byKey(enabled)).toEqual(byKey([...configObjects, ...perJob]));
    const disabled = parseObjects((await helm('template', release, chart)).stdout);
    expect(disabled.filter((object) => object.kind.startsWith('MutatingAdmissionPolicy'))).toEqual([]);
  });

  it('installs on the cluster, and uninstalls leaving no policy that would refuse pods', async () => {
    await installCrds();
    // As docs/operations.md says, plus --take-ownership: other tests of this run may have applied parts of
    // config/ already.
    await helm(
      'install',
      release,
      chart,
      '-n',
      operatorNamespace,
      '--create-namespace',
      '--set',
      'createNamespace=false',
      '--take-ownership',
    );
    const admission = api(k8s.AdmissionregistrationV1Api);
    const binding = await admission.readValidatingAdmissionPolicyBinding({
      name: 'secretlink-job-pods-only',
    });
    expect(binding.metadata?.annotations?.['meta.helm.sh/release-name']).toBe(release);
    const statefulSet = await api(k8s.AppsV1Api).readNamespacedStatefulSet({
      name: 'secretlink-operator',
      namespace: operatorNamespace,
    });
    expect(statefulSet.spec?.template.spec?.serviceAccountName).toBe('secretlink-operator');
    expect((await helm('status', release, '-n', operatorNamespace)).stdout).toContain('STATUS: deployed');

    await helm('uninstall', release, '-n', operatorNamespace, '--wait');
    const gone = await admission
      .readValidatingAdmissionPolicyBinding({ name: 'secretlink-job-pods-only' })
      .then(() => false)
      .catch((error) => statusCodeOf(error) === 404);
    expect(gone).toBe(true);
    // Helm never deletes crds/: the CRDs stay until a person removes them, after the policies are gone.
    const crd = await api(k8s.ApiextensionsV1Api).readCustomResourceDefinition({
      name: 'secretreferences.secretlink.dev',
    });
    expect(crd.metadata?.name).toBe('secretreferences.secretlink.dev');
    // The namespace holds the audit volumes: kept.
    expect((await api(k8s.CoreV1Api).readNamespace({ name: operatorNamespace })).metadata?.name).toBe(
      operatorNamespace,
    );
    // And nothing is left refusing pods: a bare pod that mounts a Secret is admitted.
    scratch = await createNamespace('after-uninstall');
    const pod = await eventually('a bare pod to be admitted', () =>
      api(k8s.CoreV1Api).createNamespacedPod({
        namespace: scratch!,
        body: {
          metadata: { name: 'bare' },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            volumes: [{ name: 's', secret: { secretName: 'anything' } }],
          },
        },
      }),
    );
    expect(pod.metadata?.name).toBe('bare');
  });
});

describe('the release manifest (make release-manifest)', () => {
  it('holds every object of config/default, once', async () => {
    const manifest = parseObjects(await releaseManifest(environment().kubectl, repoRoot));
    expect(manifest.map(objectKey).sort()).toEqual(configObjects.map(objectKey).sort());
    expect(byKey(manifest)).toEqual(byKey(configObjects));
  });

  it('is accepted by the API server as it is (server-side dry run)', async () => {
    const file = path.join(environment().runDir, 'install.yaml');
    await installCrds();
    await writeFile(file, await releaseManifest(environment().kubectl, repoRoot));
    const { stdout } = await kubectl(
      'apply',
      '--server-side',
      '--force-conflicts',
      '--dry-run=server',
      '-f',
      file,
    );
    expect(stdout).toContain('statefulset.apps/secretlink-operator serverside-applied (server dry run)');
  });
});
