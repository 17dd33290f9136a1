// config/prometheus/prometheusrule.yaml: the rules of config/prometheus/rules.yaml as a Prometheus Operator
// PrometheusRule, generated so the two stay the same rules.
import { parse, stringify } from 'yaml';
import { generatedHeader } from './chart.ts';

export const prometheusRuleFile = 'config/prometheus/prometheusrule.yaml';
export const rulesFile = 'config/prometheus/rules.yaml';

export function prometheusRule(rulesYaml: string): string {
  const { groups } = parse(rulesYaml) as { groups: unknown[] };
  return (
    generatedHeader +
    stringify(
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: {
          name: 'secretlink',
          namespace: 'secretlink-system',
          labels: { 'app.kubernetes.io/name': 'secretlink' },
        },
        spec: { groups },
      },
      { lineWidth: 0 },
    )
  );
}
