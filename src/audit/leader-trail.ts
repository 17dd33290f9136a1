// The audit trail as the operator uses it: while it leads, each record is first appended to the signed audit
// file, once, and then goes to every other sink with its place in the chain (so log lines and the file can be
// checked against each other). A record the file already holds (same id) goes nowhere again. A record the
// file could not take is not sent on and the write fails, so the reconcile that made it retries and no sink
// holds a record the durable one lacks. A standby replica has no file attached: it never opens the file, so
// two replicas never write one chain.
import type { Appended, HashChainedFileSink } from './file-sink.ts';
import type { AuditRecord, AuditSink, ChainPosition } from './types.ts';

export class LeaderAuditTrail implements AuditSink {
  readonly name = 'leader-trail';
  private readonly sinks: AuditSink;
  private readonly onChainError: (error: unknown) => void;
  private chain: HashChainedFileSink | undefined;

  constructor(sinks: AuditSink, onChainError: (error: unknown) => void) {
    this.sinks = sinks;
    this.onChainError = onChainError;
  }

  /** On becoming leader. */
  attach(chain: HashChainedFileSink): void {
    this.chain = chain;
  }

  /** On losing leadership or stopping: later records no longer reach the file; its last head is anchored. */
  async detach(): Promise<void> {
    const chain = this.chain;
    this.chain = undefined;
    await chain?.close();
  }

  async write(record: AuditRecord): Promise<void> {
    let position: ChainPosition | undefined;
    if (this.chain) {
      let appended: Appended;
      try {
        appended = await this.chain.append(record);
      } catch (error) {
        this.onChainError(error);
        throw error;
      }
      // Already in the file: the other sinks had it when it was appended.
      if (appended.repeated) return;
      position = appended;
    }
    await this.sinks.write(record, position);
  }
}
