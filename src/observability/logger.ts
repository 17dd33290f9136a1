// The operator's one root logger: JSON lines on stdout, with redaction as a second line of defence. The
// first is that no code puts a value or credential in a log field at all.
import pino, { type Logger } from 'pino';

/** Field names that could carry a value or a credential, wherever they appear in a log object. */
const redactedFields = [
  'data',
  'stringData',
  'value',
  'values',
  'token',
  'secret',
  'password',
  'secretAccessKey',
  'sessionToken',
  'clientToken',
  'authorization',
  'headers',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'secretlink' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [...redactedFields, ...redactedFields.map((field) => `*.${field}`)],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
