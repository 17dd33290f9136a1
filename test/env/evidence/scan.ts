// Looks for a canary value in files, in every form it could take on the way out of the operator: as written,
// base64 (Secret data, gRPC payloads), base64url and hex. A value embedded in a longer string is base64'd at
// one of three byte offsets, so each offset gets its own pattern, trimmed of the characters its neighbours
// would change.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface CanaryForm {
  name: string;
  pattern: string;
}

export interface CanaryHit {
  file: string;
  form: string;
}

export interface ScanReport {
  files: number;
  bytes: number;
  hits: CanaryHit[];
}

export function canaryForms(canary: string): CanaryForm[] {
  const bytes = Buffer.from(canary, 'utf8');
  const forms: CanaryForm[] = [
    { name: 'plain', pattern: canary },
    { name: 'hex', pattern: bytes.toString('hex') },
  ];
  for (const offset of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString('base64');
    // Characters that mix in bytes before (the padding) or after (whatever follows the canary) vary.
    const start = offset === 0 ? 0 : 4;
    const end = encoded.length - 4;
    const stable = encoded.slice(start, end);
    forms.push({ name: `base64 at offset ${offset}`, pattern: stable });
    const url = stable.replaceAll('+', '-').replaceAll('/', '_');
    if (url !== stable) forms.push({ name: `base64url at offset ${offset}`, pattern: url });
  }
  return forms;
}

/** Which forms of the canary `content` holds. */
export function canaryFormsIn(content: string, forms: readonly CanaryForm[]): string[] {
  return forms.filter((form) => content.includes(form.pattern)).map((form) => form.name);
}

/** Scans every file under `roots` (missing roots are skipped); binary files are read byte for byte. */
export async function scanForCanary(roots: readonly string[], canary: string): Promise<ScanReport> {
  const forms = canaryForms(canary);
  const report: ScanReport = { files: 0, bytes: 0, hits: [] };
  for (const root of roots) {
    for (const file of await filesUnder(root)) {
      const content = await readFile(file).catch(() => undefined);
      if (!content) continue;
      report.files += 1;
      report.bytes += content.length;
      for (const form of canaryFormsIn(content.toString('latin1'), forms)) report.hits.push({ file, form });
    }
  }
  return report;
}

async function filesUnder(root: string): Promise<string[]> {
  // A root may be a single file.
  if ((await stat(root).catch(() => undefined))?.isFile()) return [root];
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}
