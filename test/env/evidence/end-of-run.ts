// The check at the end of an integration run, before the environment (and its run folder) goes away: the
// canary value planted in every store must appear nowhere the operator writes for people to read (its logs,
// its audit files, Events, the status of secretlink objects, the servers' own logs), and every audit file the
// run's operators wrote must verify as an unbroken signed chain, with the public key its operator recorded
// next to it (<file>.pub.pem) and against the last anchor it recorded (<file>.anchor.json), if any.
import { createPublicKey } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type AnchorPoint, describeVerifyResult, verifyAuditFile } from '../../../src/audit/verify.ts';
import { scanForCanary } from './scan.ts';

/** Where, inside the run folder, operators started by tests write. */
export const runLayout = {
  logs: 'logs',
  audit: 'audit',
  evidence: 'evidence',
} as const;

export interface EndOfRunResult {
  summary: string[];
  failures: string[];
}

/**
 * Values tests met during the run that the operator must never emit (dynamic credentials' lease ids and token
 * accessors, read off the Secrets that hold them), one per line. Outside the scanned folders.
 */
export const handleCanariesFile = 'handle-canaries';

export async function checkEndOfRun(runDir: string, canary: string): Promise<EndOfRunResult> {
  const summary: string[] = [];
  const failures: string[] = [];

  const scanned = Object.values(runLayout).map((folder) => path.join(runDir, folder));
  const report = await scanForCanary(scanned, canary);
  summary.push(
    `canary scan: ${report.files} files, ${report.bytes} bytes (logs, audit files, Events, statuses)`,
  );
  for (const hit of report.hits) {
    // Never the canary itself: where it was and in which form is enough to find the leak.
    failures.push(`the canary value leaked into ${path.relative(runDir, hit.file)} (${hit.form})`);
  }

  const handles = (await readFile(path.join(runDir, handleCanariesFile), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean);
  if (handles.length > 0) {
    // What the operator wrote: not the servers' logs, since Vault's own log may name its leases.
    const logs = path.join(runDir, runLayout.logs);
    const operatorLogs = (await readdir(logs).catch(() => []))
      .filter((name) => name.startsWith('operator-'))
      .map((name) => path.join(logs, name));
    const written = [
      ...operatorLogs,
      path.join(runDir, runLayout.audit),
      path.join(runDir, runLayout.evidence),
    ];
    for (const handle of handles) {
      for (const hit of (await scanForCanary(written, handle)).hits) {
        failures.push(
          `a lease id or token accessor leaked into ${path.relative(runDir, hit.file)} (${hit.form})`,
        );
      }
    }
    summary.push(`lease handle scan: ${handles.length} lease ids and token accessors, none may appear`);
  }

  const auditDir = path.join(runDir, runLayout.audit);
  const auditFiles = (await readdir(auditDir).catch(() => [])).filter((name) => name.endsWith('.jsonl'));
  let canaryMaterialized = 0;
  for (const name of auditFiles) {
    const file = path.join(auditDir, name);
    const publicKeyPem = await readFile(`${file}.pub.pem`).catch(() => undefined);
    if (!publicKeyPem) {
      failures.push(`${path.relative(runDir, file)} has no public key beside it (${name}.pub.pem)`);
      continue;
    }
    const anchor = await readFile(`${file}.anchor.json`, 'utf8').then(
      (text) => [JSON.parse(text) as AnchorPoint],
      () => [],
    );
    const result = await verifyAuditFile(file, { publicKey: createPublicKey(publicKeyPem), anchors: anchor });
    if (!result.ok) failures.push(describeVerifyResult(path.relative(runDir, file), result));
    canaryMaterialized += countCanaryMaterialized(await readFile(file, 'utf8'));
  }
  summary.push(`audit chains: ${auditFiles.length} files verified (signatures and last anchors)`);
  summary.push(
    canaryMaterialized > 0
      ? `the operator materialized the canary ${canaryMaterialized} times during the run`
      : 'the canary was not materialized in this run (test/integration/canary.test.ts did not run)',
  );
  return { summary, failures };
}

/** Materialized records for the canary's remote secret, which the canary test names `...secretlink-canary`. */
function countCanaryMaterialized(auditFile: string): number {
  return auditFile
    .split('\n')
    .filter((line) => line.includes('"Materialized"') && line.includes('secretlink-canary')).length;
}
