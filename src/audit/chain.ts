// The line format of the hash-chained audit file, shared by the sink that writes it and the verifier.
//
// Each record is one JSON line: {"seq":N,"prev":"<hex>",...record,"hash":"<hex>"}. `prev` is the SHA-256 of
// the whole previous line (of a fixed genesis string for the first record), and `hash` is the SHA-256 of the
// line as written up to the hash field, closed with "}". Editing a record breaks its own hash; removing,
// reordering or replacing one breaks the next record's prev and the sequence.
import { createHash } from 'node:crypto';
import type { AuditRecord } from './types.ts';

export const genesis = 'secretlink.dev/audit-chain/v1';

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Where the chain stands: the last record's seq and the hash of its whole line. */
export interface ChainHead {
  seq: number;
  lineHash: string;
}

export const emptyChain: ChainHead = { seq: 0, lineHash: sha256(genesis) };

/** The line (without its newline) that appends `record` to the chain, and the chain's new head. */
export function chainLine(record: AuditRecord, head: ChainHead): { line: string; head: ChainHead } {
  const seq = head.seq + 1;
  const body = JSON.stringify({ seq, prev: head.lineHash, ...record });
  const line = `${body.slice(0, -1)},"hash":"${sha256(body)}"}`;
  return { line, head: { seq, lineHash: sha256(line) } };
}

export interface ParsedLine {
  seq: number;
  prev: string;
  hash: string;
  /** The hash the line's content actually has. */
  contentHash: string;
}

const sealed = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/s;

/** Splits a line into its chain fields; undefined when it is not a chain line at all. */
export function parseLine(line: string): ParsedLine | undefined {
  const match = sealed.exec(line);
  if (!match) return undefined;
  const body = `${match[1]}}`;
  let fields: unknown;
  try {
    fields = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { seq, prev } = fields as { seq?: unknown; prev?: unknown };
  if (!Number.isSafeInteger(seq) || typeof prev !== 'string') return undefined;
  return { seq: seq as number, prev, hash: match[2]!, contentHash: sha256(body) };
}
