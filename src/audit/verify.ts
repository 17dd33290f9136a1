// Checks a signed, hash-chained audit file (format in chain.ts) from its first line to its last with the
// operator's public key, and against anchors (heads recorded elsewhere), and reports the first record that
// was forged, edited, removed, reordered or replaced, or that the file ends before an anchored record.

import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { emptyChain, type Genesis, type ParsedLine, parseLine, sha256 } from './chain.ts';

export type ChainProblemKind =
  | 'malformed'
  | 'incomplete'
  | 'forged'
  | 'no-genesis'
  | 'removed'
  | 'reordered'
  | 'chain-broken'
  | 'truncated'
  | 'anchor-mismatch';

export interface ChainProblem {
  /** 1-based line number in the file. */
  line: number;
  /** The seq the line carries, when it can be read. */
  seq?: number;
  kind: ChainProblemKind;
  detail: string;
}

/** A head recorded elsewhere: the line with this seq must be in the file and hash to `head`. */
export interface AnchorPoint {
  seq: number;
  head: string;
}

export interface VerifyOptions {
  /** The operator's public key, from a source the file's writer does not control. */
  publicKey: KeyObject;
  anchors?: AnchorPoint[];
  /** Called with each line that verified, in order (the file sink learns the ids already recorded). */
  onIntact?: (line: ParsedLine) => void;
}

export type VerifyResult =
  | { ok: true; records: number; genesis?: Genesis; head?: { seq: number; lineHash: string } }
  | {
      ok: false /** Records before the first problem, all intact. */;
      records: number;
      genesis?: Genesis;
      problem: ChainProblem;
    };

export async function verifyAuditFile(filePath: string, options: VerifyOptions): Promise<VerifyResult> {
  let expectedSeq = emptyChain.seq + 1;
  let previousLineHash = emptyChain.lineHash;
  let lineNumber = 0;
  let problem: ChainProblem | undefined;
  let genesis: Genesis | undefined;
  const anchors = options.anchors ?? [];
  const anchoredSeqs = new Set(anchors.map((anchor) => anchor.seq));
  const hashesAtAnchors = new Map<number, string>();
  // Seqs after a gap, to tell a removed record from one that was moved further down.
  const laterSeqs = new Set<number>();

  for await (const { text, terminated } of lines(filePath)) {
    lineNumber += 1;
    const parsed = parseLine(text, options.publicKey);
    if (problem) {
      if (parsed) laterSeqs.add(parsed.seq);
      continue;
    }
    const at = { line: lineNumber, ...(parsed ? { seq: parsed.seq } : {}) };
    if (!terminated) {
      problem = {
        ...at,
        kind: 'incomplete',
        detail: 'the last line has no newline: a write was interrupted',
      };
    } else if (!parsed) {
      problem = {
        ...at,
        kind: 'malformed',
        detail: 'the line is not an audit record with seq, prev and sig',
      };
    } else if (!parsed.signed) {
      problem = {
        ...at,
        kind: 'forged',
        detail:
          'the signature does not verify with the public key: the line was changed or written without the key',
      };
    } else if (lineNumber === 1 && !parsed.genesis) {
      problem = { ...at, kind: 'no-genesis', detail: 'the file does not start with a genesis record' };
    } else if (lineNumber > 1 && parsed.genesis) {
      problem = { ...at, kind: 'malformed', detail: 'a genesis record in the middle of a chain' };
    } else if (parsed.seq !== expectedSeq) {
      const later = parsed.seq > expectedSeq;
      problem = {
        ...at,
        kind: later ? 'removed' : 'reordered',
        detail: `seq ${later ? 'gap' : 'out of order'}: expected ${expectedSeq}, found ${parsed.seq}`,
      };
    } else if (parsed.prev !== previousLineHash) {
      problem = {
        ...at,
        kind: 'chain-broken',
        detail: 'prev mismatch: the record before it was replaced, or records were removed or reordered',
      };
    } else {
      if (parsed.genesis) genesis = parsed.genesis;
      expectedSeq = parsed.seq + 1;
      previousLineHash = sha256(text);
      if (anchoredSeqs.has(parsed.seq)) hashesAtAnchors.set(parsed.seq, previousLineHash);
      options.onIntact?.(parsed);
    }
  }

  const records = expectedSeq - 1;
  const withGenesis = genesis ? { genesis } : {};
  if (problem)
    return { ok: false, records, ...withGenesis, problem: explainGap(problem, records, laterSeqs) };
  const anchorProblem = checkAnchors(anchors, hashesAtAnchors, records, lineNumber + 1);
  if (anchorProblem) return { ok: false, records, ...withGenesis, problem: anchorProblem };
  return {
    ok: true,
    records,
    ...withGenesis,
    ...(records > 0 ? { head: { seq: records, lineHash: previousLineHash } } : {}),
  };
}

/** The first anchor the intact file does not hold: cut short, or a different file at that seq. */
function checkAnchors(
  anchors: AnchorPoint[],
  hashes: Map<number, string>,
  records: number,
  endLine: number,
): ChainProblem | undefined {
  const sorted = [...anchors].sort((a, b) => b.seq - a.seq);
  for (const anchor of sorted) {
    if (anchor.seq > records) {
      return {
        line: endLine,
        kind: 'truncated',
        detail: `the file ends at seq ${records}, but an anchor records seq ${anchor.seq}: records ${records + 1} to ${anchor.seq} were cut off, or the file was replaced`,
      };
    }
    if (hashes.get(anchor.seq) !== anchor.head) {
      return {
        line: anchor.seq,
        seq: anchor.seq,
        kind: 'anchor-mismatch',
        detail: `the record at seq ${anchor.seq} is not the anchored one: the file was replaced or rewritten (a genesis record at line 1 says why a new chain started)`,
      };
    }
  }
  return undefined;
}

function explainGap(problem: ChainProblem, records: number, laterSeqs: Set<number>): ChainProblem {
  if (problem.kind !== 'removed') return problem;
  const missing = records + 1;
  if (laterSeqs.has(missing)) {
    return {
      ...problem,
      kind: 'reordered',
      detail: `${problem.detail}; seq ${missing} appears further down: records were reordered`,
    };
  }
  const last = problem.seq! - 1;
  const removed = last === missing ? `seq ${missing} was removed` : `seq ${missing} to ${last} were removed`;
  return { ...problem, detail: `${problem.detail}: ${removed}` };
}

/** The file's lines, split on \n only, each with whether a newline ended it. */
async function* lines(filePath: string): AsyncGenerator<{ text: string; terminated: boolean }> {
  let pending: Buffer[] = [];
  for await (const chunk of createReadStream(filePath) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, newline));
      yield { text: Buffer.concat(pending).toString('utf8'), terminated: true };
      pending = [];
      start = newline + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield { text: Buffer.concat(pending).toString('utf8'), terminated: false };
}

/** One line for a person: OK with the count and head, or where and how the chain breaks. */
export function describeVerifyResult(filePath: string, result: VerifyResult): string {
  const started = result.genesis
    ? `; chain started: ${result.genesis.reason} (${result.genesis.detail})`
    : '';
  if (result.ok) {
    const head = result.head ? `, chain head ${result.head.seq}:${result.head.lineHash}` : '';
    return `OK ${filePath}: ${count(result.records)}${head}${started}`;
  }
  const { line, seq, kind, detail } = result.problem;
  const at = seq === undefined ? `line ${line}` : `line ${line} (seq ${seq})`;
  return `BROKEN ${filePath} at ${at}: ${kind}: ${detail}; ${count(result.records)} before it intact${started}`;
}

function count(records: number): string {
  return records === 1 ? '1 record' : `${records} records`;
}
