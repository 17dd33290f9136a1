// Audit records on the operator's JSON log stream, where log shippers already collect them. Each is one
// info line with `audit: true` and the fixed message "audit", so a query can select exactly these.
import type { Logger } from 'pino';
import type { AuditRecord, AuditSink } from './types.ts';

export const auditLogMessage = 'audit';

export class LogAuditSink implements AuditSink {
  readonly name = 'log';
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  async write(record: AuditRecord): Promise<void> {
    this.logger.info({ audit: true, ...record }, auditLogMessage);
  }
}
