// Verifies a signed, hash-chained audit file:
//   node src/audit/verify-cli.ts --public-key=<pem file> [--anchor=<seq>:<head>]... <file>
// Prints OK with the record count and chain head and exits 0, or names the first forged, broken or missing
// record (or the anchor the file does not reach) and exits 1; 2 for a usage or read error.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AnchorPoint, describeVerifyResult, verifyAuditFile } from './verify.ts';

const usage =
  'usage: node src/audit/verify-cli.ts --public-key=<pem file> [--anchor=<seq>:<sha256 hex>]... <audit file>';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

let publicKeyFile: string | undefined;
const anchors: AnchorPoint[] = [];
const files: string[] = [];
for (const arg of process.argv.slice(2)) {
  const flag = /^--([a-z-]+)=(.*)$/s.exec(arg);
  if (flag?.[1] === 'public-key') publicKeyFile = flag[2];
  else if (flag?.[1] === 'anchor') {
    const anchor = /^(\d+):([0-9a-f]{64})$/.exec(flag[2]!);
    if (!anchor) fail(`--anchor must be <seq>:<64 hex digits>, as in the AuditAnchor Event's note\n${usage}`);
    anchors.push({ seq: Number(anchor[1]), head: anchor[2]! });
  } else if (arg.startsWith('--')) fail(`unknown argument ${arg}\n${usage}`);
  else files.push(arg);
}
const [filePath, ...rest] = files;
if (!filePath || rest.length > 0 || !publicKeyFile) fail(usage);

let publicKey: ReturnType<typeof createPublicKey>;
try {
  publicKey = createPublicKey(readFileSync(publicKeyFile));
} catch (error) {
  fail(
    `cannot read the public key ${publicKeyFile}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
if (publicKey.asymmetricKeyType !== 'ed25519') fail(`${publicKeyFile} is not an Ed25519 public key`);
try {
  const result = await verifyAuditFile(filePath, { publicKey, anchors });
  console.log(describeVerifyResult(filePath, result));
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`cannot verify ${filePath}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
