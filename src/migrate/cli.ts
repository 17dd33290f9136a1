// `npm run migrate -- [--report report.json] [files... | -]`: External Secrets Operator manifests in,
// secretlink manifests on stdout, the report on stderr (and as JSON with --report). Only reading, writing
// and exit codes live here; the conversion is migrate() in convert.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { migrate } from './convert.ts';
import { reportJson, reportText } from './report.ts';
import { parseDocuments, renderDocuments } from './yaml-io.ts';

const usage =
  'usage: node src/migrate/cli.ts [--report report.json] [file ... | -] > secretlink.yaml\n' +
  '  Converts External Secrets Operator ExternalSecret, SecretStore and ClusterSecretStore manifests\n' +
  '  (external-secrets.io/v1 and v1beta1) to secretlink. Reads stdin when no file is given.\n';

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { report: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const sources = positionals.length > 0 ? positionals : ['-'];
  const documents = sources.flatMap((source) =>
    parseDocuments(readFileSync(source === '-' ? 0 : source, 'utf8')),
  );
  const result = migrate(documents);
  process.stdout.write(renderDocuments(result.manifests));
  process.stderr.write(reportText(result));
  if (values.report) writeFileSync(values.report, reportJson(result));
  // Exit 0 even with findings: the output is meant to be edited; the report says what to do.
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  process.exitCode = 2;
}
