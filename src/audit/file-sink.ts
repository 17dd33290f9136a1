// Append-only, signed, hash-chained audit file: one JSON line per record (format in chain.ts), opened with
// O_APPEND and fsync'd before a write resolves. Writes are serialised so the chain has one order, and each
// record is appended once. A write that fails (a full or read-only volume) is undone: the file is cut back to
// its last whole line, so the chain is intact and the sink only `degraded`: later writes are tried again and
// `probe` tells when the volume takes data again. A write whose bytes cannot be cut back leaves the sink
// `broken`: it writes nothing more, and the next open moves the file aside and starts a new chain.
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
  private anchorTimer: NodeJS.Timeout | undefined;
  /** Set after a write whose outcome on disk is unknown; the chain cannot safely continue past it. */
  private broken: Error | undefined;
  /** Set after a write that failed and was undone; cleared by the next write that succeeds. */
  private failed: Error | undefined;
  /** Bytes of whole lines in the file: where a failed write is cut back to. */
  private size: number;
  private closed = false;
  /** Record id -> its seq, for the latest records only (insertion order). */
  private readonly recorded: Map<string, number>;

  private constructor(
    filePath: string,
    file: FileHandle,
    head: ChainHead,
    options: ChainOptions,
    started: Genesis | undefined,
    size: number,
    recorded: Map<string, number> = new Map(),
  ) {
    this.size = size;
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
    const { size } = await file.stat();
    if (found.kind === 'intact')
      return new HashChainedFileSink(filePath, file, found.head, options, undefined, size, found.recorded);

    const genesis: Genesis = {
      reason: found.reason,
      detail: found.detail,
      chain: options.chain,
      publicKey: publicKeyText(publicKey),
      ...(last ? { previous: { seq: last.seq, head: last.head } } : {}),
    };
    const sink = new HashChainedFileSink(filePath, file, emptyChain, options, genesis, size);
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
   * `ok`; `degraded` after a write that failed and was undone (the next write is tried); `broken` after a
   * write that could not be undone (nothing more is written; reopen to start a new chain).
   */
  state(): 'ok' | 'degraded' | 'broken' {
    return this.broken ? 'broken' : this.failed ? 'degraded' : 'ok';
  }

  /**
   * Whether the audit volume has at least `bytes` free (for this process): a cheap look, asked before each
   * grant, so a full volume refuses the grant before its Secret is written rather than after.
   */
  async hasRoom(bytes: number): Promise<boolean> {
    try {
      const stats = await fs.statfs(path.dirname(this.path));
      return stats.bavail * stats.bsize >= bytes;
    } catch {
      return false;
    }
  }

  /**
   * Whether the volume takes a record's worth of data now: a scratch file next to the audit file is written,
   * synced and removed. It tells a full or read-only volume from one with room, without touching the chain.
   */
  async probe(bytes = 16 * 1024): Promise<boolean> {
    const scratch = path.join(path.dirname(this.path), `.${path.basename(this.path)}.probe`);
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open(scratch, 'w', 0o600);
      await handle.write(Buffer.alloc(bytes, 0x20));
      await handle.sync();
      return true;
    } catch {
      return false;
    } finally {
      await handle?.close().catch(() => undefined);
      await fs.rm(scratch, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Appends one record and resolves with where it stands in the chain, once it is on disk; a record whose id
   * the file already holds is not appended again and resolves with `repeated`.
   */
  append(entry: ChainEntry): Promise<Appended> {
    if (this.closed) return Promise.reject(new Error(`audit file ${this.path} is closed`));
    const written = this.queue.then(() => this.appendNow(entry));
    this.queue = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.anchorTimer);
    await this.queue;
    await this.anchor();
    await this.file.close();
  }

  private async appendNow(entry: ChainEntry): Promise<Appended> {
    const id = 'id' in entry ? entry.id : undefined;
    const earlier = id === undefined ? undefined : this.recorded.get(id);
    if (earlier !== undefined) return { repeated: true, seq: earlier };
    if (this.broken) {
      throw new Error(
        `audit file ${this.path} is not written to after an earlier failed write: ${this.broken.message}`,
      );
    }
    const { line, head } = signedLine(entry, this.head, this.options.signingKey);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await this.file.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await this.file.sync();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      // A partly written line must not be followed by a second copy of the record: it is cut off first, and
      // only a file back at its last whole line is written to again.
      if (await this.undo()) {
        this.failed = cause;
        throw new AuditFileUnavailableError(
          `could not append audit record ${head.seq} to ${this.path} (${cause.message}); nothing was written`,
        );
      }
      this.broken = cause;
      throw new Error(`could not append audit record ${head.seq} to ${this.path}: ${cause.message}`);
    }
    this.failed = undefined;
    this.size += bytes.length;
    this.head = head;
    this.scheduleAnchor();
    const position = { chain: this.options.chain, seq: head.seq, head: head.lineHash };
    if (id !== undefined) remember(this.recorded, id, head.seq, this.options.recentIds ?? defaultRecentIds);
    return position;
  }

  /** Cuts the file back to its last whole line; false when that cannot be confirmed. */
  private async undo(): Promise<boolean> {
    try {
      if ((await this.file.stat()).size !== this.size) await this.file.truncate(this.size);
      return (await this.file.stat()).size === this.size;
    } catch {
      return false;
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

/** A record the audit file could not take, with the file left as it was: the write may be tried again. */
export class AuditFileUnavailableError extends Error {
  override readonly name = 'AuditFileUnavailableError';
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
