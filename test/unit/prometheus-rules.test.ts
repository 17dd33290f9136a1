// The alert rules of config/prometheus: promtool's own unit tests pass, every secretlink series they name is
// one the operator exports, and the PrometheusRule holds the same rules as the plain file.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { prometheusRule, prometheusRuleFile, rulesFile } from '../../scripts/release/prometheus-rule.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
/** Debian's `prometheus` package ships promtool; SECRETLINK_PROMTOOL names another one. */
const promtool = process.env.SECRETLINK_PROMTOOL ?? 'promtool';

describe('config/prometheus', () => {
  it('passes promtool test rules (each alert fires on its cause and stays quiet otherwise)', async () => {
    const result = await exec(promtool, ['test', 'rules', 'rules.test.yaml'], {
      cwd: path.join(root, 'config', 'prometheus'),
    }).catch((error: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
      if (error.code === 'ENOENT') {
        throw new Error(
          `promtool is missing: install it with \`apt-get install -y prometheus\` (Debian ships promtool in it; ` +
            'the service it installs need not run), or set SECRETLINK_PROMTOOL to a promtool binary.',
        );
      }
      throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(result.stdout).toContain('SUCCESS');
  });

  it('names only secretlink series the operator exports', async () => {
    const rules = readFileSync(path.join(root, rulesFile), 'utf8');
    const named = new Set(rules.match(/\bsecretlink_[a-z_]+\b/g));
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((name) => !exported.includes(name))).toEqual([]);
  });

  it('holds the same rules in the PrometheusRule as in the plain rules file (`make chart` regenerates it)', () => {
    const rules = readFileSync(path.join(root, rulesFile), 'utf8');
    expect(readFileSync(path.join(root, prometheusRuleFile), 'utf8')).toBe(prometheusRule(rules));
  });
});
