// The audit trail as the operator uses it: while it leads, each record is first appended to the signed audit
// file, once, and then goes to every other sink with its place in the chain (so log lines and the file can be
// checked against each other). A record the file already holds (same id) goes nowhere again. A record the
// file could not take is not sent on and the write fails, so the reconcile that made it retries and no sink
// holds a record the durable one lacks. A standby replica has no file attached: it never opens the file, so
// two replicas never write one chain.
//
// A failed append leaves the trail unavailable (a full or read-only volume): the operator then refuses to
// grant access (nothing is handed out unaudited) but keeps taking it away, and retries the records it owes.
// `admitsGrants` also refuses a grant before the Secret is written when the volume is nearly full, or when
// nothing has shown within the last second that the volume takes data: a volume can turn read-only while it
// still reports free space and looks writable (ext4's `errors=remount-ro` after a disk error), and only a
// write finds that out. So a grant goes out only after a successful append or a scratch write (a probe) less
// than a second old. While unavailable it looks at the volume again, at most once per second, so grants
// resume by themselves once space returns. Only a file the sink could not cut back to a whole line (`broken`) is reported through
// `onChainError`: the chain cannot continue in this process.
import type { Appended, HashChainedFileSink } from './file-sink.ts';
import type { AuditRecord, AuditSink, ChainPosition } from './types.ts';

/** The audit file cannot take records now; access may not be granted, and the record is owed. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

export interface TrailObserver {
  /** The file cannot go on in this process (a partly written line could not be cut off). */
  onChainError: (error: unknown) => void;
  /** The file stopped taking records (`error`) or took them again (`undefined`). */
  onAvailability?: (error: unknown | undefined) => void;
}

const probeIntervalMs = 1_000;
/** How old the last write that reached the volume may be for a grant to go out without a probe first. */
const proofMaxAgeMs = 1_000;
/** Free space below which no grant is made: room for a few dozen records (each about 1 KiB). */
const minFreeBytes = 64 * 1024;

export class LeaderAuditTrail implements AuditSink {
  readonly name = 'leader-trail';
  private readonly sinks: AuditSink;
  private readonly observer: TrailObserver;
  private readonly now: () => number;
  private chain: HashChainedFileSink | undefined;
  /** Why the last append failed, until one succeeds (or a probe finds room). */
  private unavailable: Error | undefined;
  private lastProbe = 0;
  /** When a write to the volume last succeeded: an append or a probe. */
  private lastProven = Number.NEGATIVE_INFINITY;
  /** The probe under way, shared by the grants that wait for it. */
  private proving: Promise<boolean> | undefined;

  constructor(sinks: AuditSink, observer: TrailObserver, now: () => number = Date.now) {
    this.sinks = sinks;
    this.observer = observer;
    this.now = now;
  }

  /** On becoming leader. */
  attach(chain: HashChainedFileSink): void {
    this.chain = chain;
    this.lastProven = Number.NEGATIVE_INFINITY;
  }

  /** On losing leadership or stopping: later records no longer reach the file; its last head is anchored. */
  async detach(): Promise<void> {
    const chain = this.chain;
    this.chain = undefined;
    this.unavailable = undefined;
    await chain?.close();
  }

  /** False while the audit file cannot take records: the readiness probe says so. */
  available(): boolean {
    return this.unavailable === undefined;
  }

  /**
   * Whether access may be granted now: the volume must have room for the grant's records and those of the
   * revocations that follow (`minFreeBytes`), looked at before each grant, and must have taken a write less
   * than a second ago (an append, or else a probe: a scratch write next to the file, shared by the grants
   * that ask meanwhile). While the file is unavailable the volume is probed at most once per second: a grant
   * waits for room to record it, never the other way.
   */
  async admitsGrants(): Promise<boolean> {
    const chain = this.chain;
    if (!chain) return true;
    if (chain.state() === 'broken') return false;
    if (!this.unavailable) {
      if (!(await chain.hasRoom(minFreeBytes)))
        return this.refuseGrants(`the audit volume has less than ${minFreeBytes / 1024} KiB free`);
      if (this.now() - this.lastProven < proofMaxAgeMs) return true;
      if (await this.prove(chain)) return true;
      return this.refuseGrants(
        'the audit volume does not take data (a scratch write next to the file failed)',
      );
    }
    if (this.now() - this.lastProbe < probeIntervalMs) return false;
    this.lastProbe = this.now();
    if (!(await chain.hasRoom(minFreeBytes)) || !(await this.prove(chain))) return false;
    this.recovered();
    return true;
  }

  async write(record: AuditRecord): Promise<void> {
    let position: ChainPosition | undefined;
    const chain = this.chain;
    if (chain) {
      let appended: Appended;
      try {
        appended = await chain.append(record);
      } catch (error) {
        this.markUnavailable(error instanceof Error ? error : new Error(String(error)));
        if (chain.state() === 'broken') {
          this.observer.onChainError(error);
          throw error;
        }
        throw new AuditUnavailableError(`the audit file cannot take records: ${this.unavailable?.message}`);
      }
      this.lastProven = this.now();
      this.recovered();
      // Already in the file: the other sinks had it when it was appended.
      if (appended.repeated) return;
      position = appended;
    }
    await this.sinks.write(record, position);
  }

  /** Marks the file unavailable for `why`, found by a look at the volume just made: the next look is a second away. */
  private refuseGrants(why: string): false {
    this.markUnavailable(new Error(why));
    this.lastProbe = this.now();
    return false;
  }

  /** One probe at a time; a success counts as a fresh proof that the volume takes data. */
  private prove(chain: HashChainedFileSink): Promise<boolean> {
    this.proving ??= chain
      .probe()
      .then((writable) => {
        if (writable) this.lastProven = this.now();
        return writable;
      })
      .finally(() => {
        this.proving = undefined;
      });
    return this.proving;
  }

  private markUnavailable(cause: Error): void {
    if (!this.unavailable) this.observer.onAvailability?.(cause);
    this.unavailable = cause;
  }

  private recovered(): void {
    if (!this.unavailable) return;
    this.unavailable = undefined;
    this.observer.onAvailability?.(undefined);
  }
}
