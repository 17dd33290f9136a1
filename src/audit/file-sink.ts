// Append-only, signed, hash-chained audit file: one JSON line per record (format in chain.ts), opened with
// O_APPEND and fsync'd before a write resolves. Writes are serialised so the chain has one order, and each
// record is appended once: a write whose outcome on disk is unknown stops the sink rather than be retried.
// Records that arrive while a write is on its way to disk are committed together by the next one (one write,
// one fsync), in the order they arrived: a burst of grants costs a few fsyncs, not one each, and no record
// resolves before it is on disk.
// A record is identified by its id: one whose id the file already holds (among the last `recentIds` records,
// learned from the file itself when it is opened) is not appended again, so a retried or recovered emission
// is idempotent across restarts.
//
// Opening checks the whole file with the operator's own public key and against the last anchor of its chain.
// An intact file is continued. Otherwise the chain starts again, loudly: a missing file, or one that was
// cut, edited or interrupted (moved aside as <file>.broken-<time>, for a person to look at), gets a genesis
// record that says what was found and which head was anchored last. The anchor store is told the head after
// the genesis record, at most every `anchorIntervalMs` after writes, and when the sink closes.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Anchor, AnchorStore } from './anchors.ts';
import {
  type ChainEntry,
  type ChainHead,
  emptyChain,
  type Genesis,
  type GenesisReason,
  type ParsedLine,
  publicKeyText,
  signedLine,
} from './chain.ts';
import type { AuditRecord, AuditSink, ChainPosition } from './types.ts';
import { describeVerifyResult, verifyAuditFile } from './verify.ts';

export interface ChainOptions {
  /** Ed25519 private key; kept off the audit volume. */
  signingKey: KeyObject;
  /** The chain's name, the replica's identity: anchors are kept per chain. */
  chain: string;
  anchors: AnchorStore;
  anchorIntervalMs?: number;
  /** A failed anchor write does not stop auditing; it is reported here. */
  onAnchorError?: (error: unknown) => void;
  /** How many of the latest record ids are remembered to refuse a repeat; 100,000 by default. */
  recentIds?: number;
}

/** Where a record now stands in the chain, or `repeated` (and its seq) when the file already held it. */
export type Appended = (ChainPosition & { repeated?: undefined }) | { repeated: true; seq: number };

/** An append waiting for the next commit. */
interface Pending {
  entry: ChainEntry;
  resolve: (appended: Appended) => void;
  reject: (error: Error) => void;
}

const defaultRecentIds = 100_000;

export class HashChainedFileSink implements AuditSink {
  readonly name = 'file';
  readonly path: string;
  /** The genesis record this open wrote, when it had to start a new chain. */
  readonly started: Genesis | undefined;
  private readonly file: FileHandle;
  private readonly options: ChainOptions;
  private head: ChainHead;
  private anchored: ChainHead;
  private queue: Promise<unknown> = Promise.resolve();
  /** Appends that arrived since the last commit started; the next commit takes them all. */
  private pending: Pending[] = [];
  private anchorTimer: NodeJS.Timeout | undefined;
  /** Set after a write whose outcome on disk is unknown; the chain cannot safely continue past it. */
  private broken: Error | undefined;
  private closed = false;
  /** Record id -> its seq, for the latest records only (insertion order). */
  private readonly recorded: Map<string, number>;

  private constructor(
    filePath: string,
    file: FileHandle,
    head: ChainHead,
    options: ChainOptions,
    started: Genesis | undefined,
    recorded: Map<string, number> = new Map(),
  ) {
    this.path = filePath;
    this.file = file;
    this.head = head;
    this.anchored = head;
    this.options = options;
    this.started = started;
    this.recorded = recorded;
  }

  /** Opens (or creates, mode 0600) the file, continuing its chain or starting a new one that says why. */
  static async open(filePath: string, options: ChainOptions): Promise<HashChainedFileSink> {
    const publicKey = createPublicKey(options.signingKey);
    const last = await options.anchors.latest();
    const found = await inspect(filePath, publicKey, last, options.recentIds ?? defaultRecentIds);
    const file = await fs.open(filePath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    await syncDirectory(path.dirname(filePath));
    if (found.kind === 'intact')
      return new HashChainedFileSink(filePath, file, found.head, options, undefined, found.recorded);

    const genesis: Genesis = {
      reason: found.reason,
      detail: found.detail,
      chain: options.chain,
      publicKey: publicKeyText(publicKey),
      ...(last ? { previous: { seq: last.seq, head: last.head } } : {}),
    };
    const sink = new HashChainedFileSink(filePath, file, emptyChain, options, genesis);
    try {
      await sink.append({ time: new Date().toISOString(), genesis });
    } catch (error) {
      await file.close();
      throw error;
    }
    await sink.anchor();
    return sink;
  }

  /** The last record written: its seq and the hash of its line (what the next record's prev will be). */
  chainHead(): ChainHead {
    return { ...this.head };
  }

  async write(record: AuditRecord): Promise<void> {
    await this.append(record);
  }

  /**
   * Appends one record and resolves with where it stands in the chain, once it is on disk; a record whose id
   * the file already holds is not appended again and resolves with `repeated`.
   */
  append(entry: ChainEntry): Promise<Appended> {
    if (this.closed) return Promise.reject(new Error(`audit file ${this.path} is closed`));
    return new Promise<Appended>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      // The first append of a batch schedules its commit after the one in progress; later ones ride along.
      if (this.pending.length === 1) {
        const committed = this.queue.then(() => this.commit());
        this.queue = committed.catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.anchorTimer);
    await this.queue;
    await this.anchor();
    await this.file.close();
  }

  /** Appends every pending record with one write and one fsync, and settles each once that is known. */
  private async commit(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    // A record repeated within the batch shares the outcome of its first copy.
    const outcomes: ({ appended: Appended } | { error: Error } | { sameAs: number })[] = [];
    const lines: string[] = [];
    const fresh: { id: string | undefined; index: number }[] = [];
    /** Record id -> index in the batch of the copy to be written. */
    const batchIds = new Map<string, number>();
    let head = this.head;
    for (const [index, { entry }] of batch.entries()) {
      const id = 'id' in entry ? entry.id : undefined;
      const earlier = id === undefined ? undefined : this.recorded.get(id);
      if (earlier !== undefined) {
        outcomes.push({ appended: { repeated: true, seq: earlier } });
        continue;
      }
      const first = id === undefined ? undefined : batchIds.get(id);
      if (first !== undefined) {
        outcomes.push({ sameAs: first });
        continue;
      }
      if (this.broken) {
        outcomes.push({
          error: new Error(
            `audit file ${this.path} is not written to after an earlier failed write: ${this.broken.message}`,
          ),
        });
        continue;
      }
      const signed = signedLine(entry, head, this.options.signingKey);
      head = signed.head;
      lines.push(`${signed.line}\n`);
      if (id !== undefined) batchIds.set(id, index);
      outcomes.push({ appended: { chain: this.options.chain, seq: head.seq, head: head.lineHash } });
      fresh.push({ id, index });
    }
    if (lines.length > 0) {
      const bytes = Buffer.from(lines.join(''), 'utf8');
      try {
        let offset = 0;
        while (offset < bytes.length) {
          const { bytesWritten } = await this.file.write(bytes, offset, bytes.length - offset);
          offset += bytesWritten;
        }
        await this.file.sync();
        this.head = head;
        this.scheduleAnchor();
        for (const { id, index } of fresh) {
          const outcome = outcomes[index]!;
          if (id !== undefined && 'appended' in outcome)
            remember(this.recorded, id, outcome.appended.seq, this.options.recentIds ?? defaultRecentIds);
        }
      } catch (error) {
        // Not retried: a partly written line must not be followed by a second copy of the record.
        this.broken = error instanceof Error ? error : new Error(String(error));
        for (const { index } of fresh) {
          const outcome = outcomes[index]!;
          const seq = 'appended' in outcome ? outcome.appended.seq : 0;
          outcomes[index] = {
            error: new Error(`could not append audit record ${seq} to ${this.path}: ${this.broken.message}`),
          };
        }
      }
    }
    for (const [index, { resolve, reject }] of batch.entries()) {
      const own = outcomes[index]!;
      const outcome = 'sameAs' in own ? outcomes[own.sameAs]! : own;
      if ('error' in outcome) reject(outcome.error);
      else if ('appended' in outcome)
        resolve('sameAs' in own ? { repeated: true, seq: outcome.appended.seq } : outcome.appended);
    }
  }

  private scheduleAnchor(): void {
    if (this.anchorTimer || this.closed) return;
    this.anchorTimer = setTimeout(() => {
      this.anchorTimer = undefined;
      void this.anchor();
    }, this.options.anchorIntervalMs ?? 60_000);
    this.anchorTimer.unref();
  }

  /** Records the current head outside the file, unless it is already recorded. */
  private async anchor(): Promise<void> {
    const head = this.head;
    if (head.seq === 0 || (head.seq === this.anchored.seq && head.lineHash === this.anchored.lineHash))
      return;
    const anchor: Anchor = {
      chain: this.options.chain,
      seq: head.seq,
      head: head.lineHash,
      time: new Date().toISOString(),
    };
    try {
      await this.options.anchors.record(anchor);
      this.anchored = head;
    } catch (error) {
      this.options.onAnchorError?.(error);
    }
  }
}

type Found =
  | { kind: 'intact'; head: ChainHead; recorded: Map<string, number> }
  | { kind: 'start'; reason: GenesisReason; detail: string };

/** Keeps the latest `limit` ids: the oldest goes first. */
function remember(recorded: Map<string, number>, id: string, seq: number, limit: number): void {
  recorded.delete(id);
  recorded.set(id, seq);
  if (recorded.size > limit) recorded.delete(recorded.keys().next().value!);
}

/**
 * What the file holds, checked against the last anchor, with the ids of its latest `recentIds` records; a file
 * that does not verify is moved aside (and its ids are not carried over: the new chain records them again).
 */
async function inspect(
  filePath: string,
  publicKey: KeyObject,
  last: Anchor | undefined,
  recentIds: number,
): Promise<Found> {
  const size = await fs.stat(filePath).then(
    (stat) => stat.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  const anchored = last ? `; the last anchor records seq ${last.seq} (${last.head})` : '';
  if (size === undefined || size === 0) {
    const what = size === undefined ? 'no audit file' : 'an empty audit file';
    return last
      ? { kind: 'start', reason: 'previous-missing', detail: `found ${what}${anchored}` }
      : { kind: 'start', reason: 'new-file', detail: `found ${what} and no anchor of an earlier one` };
  }
  const recorded = new Map<string, number>();
  const result = await verifyAuditFile(filePath, {
    publicKey,
    anchors: last ? [{ seq: last.seq, head: last.head }] : [],
    onIntact: (line: ParsedLine) => {
      if (line.id) remember(recorded, line.id, line.seq, recentIds);
    },
  });
  if (result.ok && result.head) return { kind: 'intact', head: result.head, recorded };
  const aside = `${filePath}.broken-${new Date().toISOString().replaceAll(':', '')}`;
  await fs.rename(filePath, aside);
  const problem = describeVerifyResult(path.basename(filePath), result);
  return {
    kind: 'start',
    reason: 'previous-broken',
    detail: `${problem}${anchored}; the file was moved to ${path.basename(aside)}`,
  };
}

/** Makes a newly created file's directory entry durable, not only its content. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
