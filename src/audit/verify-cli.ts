// Verifies a hash-chained audit file: `node src/audit/verify-cli.ts <file>`. Prints OK with the record count
// and exits 0, or names the first broken or missing record and exits 1; 2 for a usage or read error.
import { describeVerifyResult, verifyAuditFile } from './verify.ts';

const [filePath, ...rest] = process.argv.slice(2);
if (!filePath || rest.length > 0) {
  console.error('usage: node src/audit/verify-cli.ts <audit file>');
  process.exit(2);
}
try {
  const result = await verifyAuditFile(filePath);
  console.log(describeVerifyResult(filePath, result));
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`cannot verify ${filePath}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
