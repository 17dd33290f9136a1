// Checks a hash-chained audit file (format in chain.ts) from its first line to its last and reports the first
// record that was edited, removed, reordered or replaced. A file cut short at the end still verifies: keep
// the chain head (the verify output, or the operator's log stream) elsewhere to detect that.
import { createReadStream } from 'node:fs';
import { emptyChain, parseLine, sha256 } from './chain.ts';

export type ChainProblemKind =
  | 'malformed'
  | 'incomplete'
  | 'edited'
  | 'removed'
  | 'reordered'
  | 'chain-broken';

export interface ChainProblem {
  /** 1-based line number in the file. */
  line: number;
  /** The seq the line carries, when it can be read. */
  seq?: number;
  kind: ChainProblemKind;
  detail: string;
}

export type VerifyResult =
  | { ok: true; records: number; head?: { seq: number; lineHash: string } }
  | {
      ok: false /** Records before the first problem, all intact. */;
      records: number;
      problem: ChainProblem;
    };

export async function verifyAuditFile(filePath: string): Promise<VerifyResult> {
  let expectedSeq = emptyChain.seq + 1;
  let previousLineHash = emptyChain.lineHash;
  let lineNumber = 0;
  let problem: ChainProblem | undefined;
  // Seqs after a gap, to tell a removed record from one that was moved further down.
  const laterSeqs = new Set<number>();

  for await (const { text, terminated } of lines(filePath)) {
    lineNumber += 1;
    const parsed = parseLine(text);
    if (problem) {
      if (parsed) laterSeqs.add(parsed.seq);
      continue;
    }
    if (!terminated) {
      problem = {
        line: lineNumber,
        seq: parsed?.seq,
        kind: 'incomplete',
        detail: 'the last line has no newline: a write was interrupted',
      };
    } else if (!parsed) {
      problem = {
        line: lineNumber,
        kind: 'malformed',
        detail: 'the line is not an audit record with seq, prev and hash',
      };
    } else if (parsed.contentHash !== parsed.hash) {
      problem = {
        line: lineNumber,
        seq: parsed.seq,
        kind: 'edited',
        detail: 'hash mismatch: the record was changed after it was written',
      };
    } else if (parsed.seq !== expectedSeq) {
      problem = {
        line: lineNumber,
        seq: parsed.seq,
        kind: parsed.seq > expectedSeq ? 'removed' : 'reordered',
        detail:
          parsed.seq > expectedSeq
            ? `seq gap: expected ${expectedSeq}, found ${parsed.seq}`
            : `seq out of order: expected ${expectedSeq}, found ${parsed.seq}`,
      };
    } else if (parsed.prev !== previousLineHash) {
      problem = {
        line: lineNumber,
        seq: parsed.seq,
        kind: 'chain-broken',
        detail: 'prev mismatch: the record before it was replaced, or records were removed or reordered',
      };
    } else {
      expectedSeq = parsed.seq + 1;
      previousLineHash = sha256(text);
    }
  }

  const records = expectedSeq - 1;
  if (!problem)
    return {
      ok: true,
      records,
      ...(records > 0 ? { head: { seq: records, lineHash: previousLineHash } } : {}),
    };
  if (problem.kind === 'removed') {
    const missing = records + 1;
    if (laterSeqs.has(missing)) {
      problem = {
        ...problem,
        kind: 'reordered',
        detail: `${problem.detail}; seq ${missing} appears further down: records were reordered`,
      };
    } else {
      const last = problem.seq! - 1;
      const removed =
        last === missing ? `seq ${missing} was removed` : `seq ${missing} to ${last} were removed`;
      problem = { ...problem, detail: `${problem.detail}: ${removed}` };
    }
  }
  return { ok: false, records, problem };
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

/** One line for a person: OK with the count, or where and how the chain breaks. */
export function describeVerifyResult(filePath: string, result: VerifyResult): string {
  if (result.ok) {
    const head = result.head ? `, chain head seq ${result.head.seq} ${result.head.lineHash}` : '';
    return `OK ${filePath}: ${count(result.records)}${head}`;
  }
  const { line, seq, kind, detail } = result.problem;
  const at = seq === undefined ? `line ${line}` : `line ${line} (seq ${seq})`;
  return `BROKEN ${filePath} at ${at}: ${kind}: ${detail}; ${count(result.records)} before it intact`;
}

function count(records: number): string {
  return records === 1 ? '1 record' : `${records} records`;
}
