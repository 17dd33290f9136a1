// Everything generated from config/: the chart and the PrometheusRule (committed), and the single-file
// release manifest (dist/install.yaml, made per release). `make chart` writes the committed files; the tests
// fail when they are not what config/ generates now.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chartDir, chartFiles } from './chart.ts';
import { type KubeObject, kustomize, objectKey, parseObjects } from './objects.ts';

/** The kustomize component a chart option installs: the per-Job mutating admission policy. */
export const perJobComponent = 'config/components/per-job';

import { prometheusRule, prometheusRuleFile, rulesFile } from './prometheus-rule.ts';

/** Repository-relative path -> content of every committed generated file. */
export async function generatedFiles(kubectl: string, repoRoot: string): Promise<Map<string, string>> {
  const objects = parseObjects(await kustomize(kubectl, repoRoot));
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const rules = readFileSync(path.join(repoRoot, rulesFile), 'utf8');
  const perJobObjects = await componentObjects(kubectl, repoRoot, perJobComponent, objects);
  const files = chartFiles({ objects, version, prometheusRules: rules, perJobObjects });
  files.set(prometheusRuleFile, prometheusRule(rules));
  return files;
}

/**
 * What a component adds to config/default, as kustomize renders config/default with it: the objects a user who
 * lists the component in their kustomization gets besides config/default's.
 */
export async function componentObjects(
  kubectl: string,
  repoRoot: string,
  component: string,
  defaults?: KubeObject[],
): Promise<KubeObject[]> {
  const base = defaults ?? parseObjects(await kustomize(kubectl, repoRoot));
  const overlay = await fs.mkdtemp(path.join(os.tmpdir(), 'secretlink-component-'));
  try {
    const relative = (folder: string) => path.relative(overlay, path.join(repoRoot, folder));
    await fs.writeFile(
      path.join(overlay, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${relative('config/default')}`,
        'components:',
        `  - ${relative(component)}`,
        '',
      ].join('\n'),
    );
    const known = new Set(base.map(objectKey));
    return parseObjects(await kustomize(kubectl, repoRoot, overlay)).filter(
      (object) => !known.has(objectKey(object)),
    );
  } finally {
    await fs.rm(overlay, { recursive: true, force: true });
  }
}

/** The install manifest of one release: config/default in one file, for `kubectl apply -f`. */
export async function releaseManifest(kubectl: string, repoRoot: string): Promise<string> {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return (
    `# secretlink ${version}: everything config/default installs, in one file.\n` +
    '#   kubectl apply --server-side -f install.yaml\n' +
    '# Uninstall in the order docs/operations.md gives ("Uninstall"): SecretReferences first, CRDs last.\n' +
    (await kustomize(kubectl, repoRoot))
  );
}

/** What differs between `files` and the repository: changed, missing, and chart files nothing generates. */
export function staleFiles(files: Map<string, string>, repoRoot: string): string[] {
  const stale: string[] = [];
  for (const [file, content] of files) {
    const full = path.join(repoRoot, file);
    if (!existsSync(full)) stale.push(`${file} is missing`);
    else if (readFileSync(full, 'utf8') !== content) stale.push(`${file} differs`);
  }
  for (const file of listFiles(path.join(repoRoot, chartDir))) {
    const relative = path.relative(repoRoot, file);
    if (!files.has(relative)) stale.push(`${relative} is not generated from config/`);
  }
  return stale;
}

export async function writeFiles(files: Map<string, string>, repoRoot: string): Promise<void> {
  await fs.rm(path.join(repoRoot, chartDir), { recursive: true, force: true });
  for (const [file, content] of files) {
    await fs.mkdir(path.dirname(path.join(repoRoot, file)), { recursive: true });
    await fs.writeFile(path.join(repoRoot, file), content);
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
