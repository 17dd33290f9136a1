// Append-only, hash-chained audit file: one JSON line per record (format in chain.ts), opened with O_APPEND
// and fsync'd before a write resolves. Writes are serialised so the chain has one order; a restarted sink
// reads the last line and continues the chain from it. One process writes a file at a time.
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { type ChainHead, chainLine, emptyChain, parseLine, sha256 } from './chain.ts';
import type { AuditRecord, AuditSink } from './types.ts';

export class HashChainedFileSink implements AuditSink {
  readonly name = 'file';
  readonly path: string;
  private readonly file: FileHandle;
  private head: ChainHead;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set after a write whose outcome on disk is unknown; the chain cannot safely continue past it. */
  private broken: Error | undefined;

  private constructor(filePath: string, file: FileHandle, head: ChainHead) {
    this.path = filePath;
    this.file = file;
    this.head = head;
  }

  /** Opens (or creates, mode 0600) the file and finds where its chain ends. */
  static async open(filePath: string): Promise<HashChainedFileSink> {
    const head = await readChainHead(filePath);
    const created = head === undefined;
    const file = await fs.open(filePath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    if (created) await syncDirectory(path.dirname(filePath));
    return new HashChainedFileSink(filePath, file, head ?? emptyChain);
  }

  /** The last record written: its seq and the hash of its line (what the next record's prev will be). */
  chainHead(): ChainHead {
    return { ...this.head };
  }

  write(record: AuditRecord): Promise<void> {
    const written = this.queue.then(() => this.append(record));
    this.queue = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.file.close();
  }

  private async append(record: AuditRecord): Promise<void> {
    if (this.broken) {
      throw new Error(
        `audit file ${this.path} is not written to after an earlier failed write: ${this.broken.message}`,
      );
    }
    const { line, head } = chainLine(record, this.head);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await this.file.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await this.file.sync();
    } catch (error) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      throw new Error(`could not append audit record ${head.seq} to ${this.path}: ${this.broken.message}`);
    }
    this.head = head;
  }
}

/** The chain head of an existing file, or undefined when there is no file yet. */
async function readChainHead(filePath: string): Promise<ChainHead | undefined> {
  let file: FileHandle;
  try {
    file = await fs.open(filePath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const last = await readLastLine(file, filePath);
    if (last === undefined) return emptyChain;
    const parsed = parseLine(last);
    if (!parsed) {
      throw new Error(
        `audit file ${filePath} ends with a line that is not an audit record; run the verify command on it and move it aside`,
      );
    }
    return { seq: parsed.seq, lineHash: sha256(last) };
  } finally {
    await file.close();
  }
}

const chunkSize = 64 * 1024;

/** The file's last line without its newline; undefined for an empty file. */
async function readLastLine(file: FileHandle, filePath: string): Promise<string | undefined> {
  const { size } = await file.stat();
  if (size === 0) return undefined;
  const lastByte = Buffer.alloc(1);
  await file.read(lastByte, 0, 1, size - 1);
  if (lastByte[0] !== 0x0a) {
    // A write was cut short (crash, full disk). Continuing would hide it, so a person must look first.
    throw new Error(
      `audit file ${filePath} ends with an incomplete record (no newline at byte ${size}); run the verify command on it and move it aside`,
    );
  }
  const chunks: Buffer[] = [];
  let end = size - 1;
  while (end > 0) {
    const start = Math.max(0, end - chunkSize);
    const chunk = Buffer.alloc(end - start);
    await file.read(chunk, 0, chunk.length, start);
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) {
      chunks.unshift(chunk.subarray(newline + 1));
      break;
    }
    chunks.unshift(chunk);
    end = start;
  }
  return Buffer.concat(chunks).toString('utf8');
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
