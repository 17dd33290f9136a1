// The line format of the signed, hash-chained audit file, shared by the sink that writes it and the verifier.
//
// Each line is one JSON object: {"seq":N,"prev":"<hex>",...entry,"sig":"<base64>"}. `prev` is the SHA-256 of
// the whole previous line (of a fixed version string for the first line), and `sig` is an Ed25519 signature
// of the line as written up to the sig field, closed with "}". Only the holder of the private key can write a
// line that verifies, so editing, removing, reordering or replacing lines, or forging a whole file, shows up
// for anyone who holds the public key. The first line of every file is a genesis entry saying why a chain
// starts there.
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { AuditRecord } from './types.ts';

export const chainVersion = 'secretlink.dev/audit-chain/v2';

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Where the chain stands: the last line's seq and the SHA-256 of that whole line. */
export interface ChainHead {
  seq: number;
  lineHash: string;
}

export const emptyChain: ChainHead = { seq: 0, lineHash: sha256(chainVersion) };

/**
 * Why a file starts a new chain. `new-file`: there was no file and no record of one. `previous-missing`: the
 * file is gone (or empty) although an anchor says records were written. `previous-broken`: the file did not
 * verify (cut, edited, interrupted write) and was moved aside.
 */
export type GenesisReason = 'new-file' | 'previous-missing' | 'previous-broken';

export interface Genesis {
  reason: GenesisReason;
  /** For a person: what was found. */
  detail: string;
  /** The chain this file continues: the operator replica's identity. */
  chain: string;
  /** The verifying key (SPKI DER, base64), for reference only: a verifier must take its key from elsewhere. */
  publicKey: string;
  /** The last head anchored before this file started, when one is known. */
  previous?: { seq: number; head: string };
}

export type ChainEntry = AuditRecord | { time: string; genesis: Genesis };

/** The line (without its newline) that appends `entry` to the chain, signed, and the chain's new head. */
export function signedLine(
  entry: ChainEntry,
  head: ChainHead,
  signingKey: KeyObject,
): { line: string; head: ChainHead } {
  const seq = head.seq + 1;
  const body = JSON.stringify({ seq, prev: head.lineHash, ...entry });
  const signature = sign(null, Buffer.from(body, 'utf8'), signingKey).toString('base64');
  const line = `${body.slice(0, -1)},"sig":"${signature}"}`;
  return { line, head: { seq, lineHash: sha256(line) } };
}

export interface ParsedLine {
  seq: number;
  prev: string;
  genesis?: Genesis;
  /** The record's id (`AuditRecord.id`), when it has one. */
  id?: string;
  /** Whether the signature verifies with the key given. */
  signed: boolean;
}

const sealed = /^(\{.*),"sig":"([A-Za-z0-9+/]+={0,2})"\}$/s;

/** Splits a line into its chain fields and checks its signature; undefined when it is not a chain line. */
export function parseLine(line: string, publicKey: KeyObject): ParsedLine | undefined {
  const match = sealed.exec(line);
  if (!match) return undefined;
  const body = `${match[1]}}`;
  let fields: unknown;
  try {
    fields = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { seq, prev, genesis, id } = fields as {
    seq?: unknown;
    prev?: unknown;
    genesis?: Genesis;
    id?: unknown;
  };
  if (!Number.isSafeInteger(seq) || typeof prev !== 'string') return undefined;
  const signed = verify(null, Buffer.from(body, 'utf8'), publicKey, Buffer.from(match[2]!, 'base64'));
  return {
    seq: seq as number,
    prev,
    signed,
    ...(genesis ? { genesis } : {}),
    ...(typeof id === 'string' ? { id } : {}),
  };
}

/** The public key as it appears in genesis entries and anchors: SPKI DER, base64. */
export function publicKeyText(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}
