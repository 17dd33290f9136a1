// The operator's one root logger: JSON lines on stdout, with redaction as a second line of defence. The
// first is that no code puts a value or credential in a log field at all. Every object, child binding and
// message passes through scrub() (redact.ts): credential fields are replaced at any depth and API response
// bodies never reach the output.
import pino, { type Logger } from 'pino';
import { redacted, safeErrorMessage, scrub } from './redact.ts';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { component: 'secretlink' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: (error: unknown) => scrub(error) },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          // logger.error(error): pino would take the message from the error, body and all.
          if (first instanceof Error) {
            const message = typeof rest[0] === 'string' ? rest[0] : safeErrorMessage(first);
            return method.apply(this, [{ err: first }, message] as unknown as Parameters<typeof method>);
          }
          const safe = args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg));
          return method.apply(this, safe as Parameters<typeof method>);
        },
      },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => scrub(bindings) as Record<string, unknown>,
        log: (object) => scrub(object) as Record<string, unknown>,
      },
    },
    destination,
  );
  // pino applies the bindings formatter to the root only; children (and theirs, which inherit this) are
  // scrubbed here.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, scrub(bindings) as typeof bindings, options);
  } as typeof logger.child;
  return logger;
}

export type { Logger };
export { redacted };
