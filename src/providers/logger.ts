// The slice of a pino logger the providers use, so the operator can pass its own (child) logger and tests can
// capture every line. Fields passed here are names, reasons and codes, never values or credentials.
export interface ProviderLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ProviderLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
