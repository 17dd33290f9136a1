// The report for a person (stderr) and for a machine (JSON): every finding, then every Secret and
// ServiceAccount that must opt in to the converted stores, and how.
import type { MigrationResult } from './convert.ts';

const label = { action: 'ACTION ', changed: 'CHANGED', info: 'INFO   ' } as const;

export function reportJson(result: MigrationResult): string {
  return `${JSON.stringify({ findings: result.findings, credentialOptIns: result.credentialOptIns }, null, 2)}\n`;
}

export function reportText(result: MigrationResult): string {
  const lines: string[] = [];
  const count = (severity: string) =>
    result.findings.filter((finding) => finding.severity === severity).length;
  lines.push(
    `converted ${result.manifests.length} object(s); ${count('action')} need action, ${count('changed')} changed meaning or not carried over, ${count('info')} notes`,
  );
  for (const finding of result.findings) {
    const where = finding.field ? ` ${finding.field}` : '';
    lines.push(`${label[finding.severity]} ${finding.object}${where}: ${finding.message}`);
  }
  if (result.credentialOptIns.length > 0) {
    lines.push(
      '',
      'Credentials the converted stores use must opt in with the annotation secretlink.dev/allowed-stores:',
    );
    for (const optIn of result.credentialOptIns) {
      const namespace = optIn.namespace ?? '<the store’s namespace>';
      lines.push(
        `  ${optIn.kind} ${namespace}/${optIn.name}: add ${optIn.entries.join(', ')}`,
        `    kubectl annotate ${optIn.kind.toLowerCase()} -n ${namespace} ${optIn.name} '${optIn.annotation}=${optIn.value}'` +
          '   (merge with entries it already has)',
      );
      if (optIn.needsTokenRequestGrant) {
        lines.push(
          `    and grant the operator (ServiceAccount secretlink-system/secretlink-operator) create on serviceaccounts/token with resourceNames: [${optIn.name}] in ${namespace}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
