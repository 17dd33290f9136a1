// Go-style durations (`90s`, `1h30m`, `1.5h`, `250ms`), the format of spec.ttl and spec.refreshInterval.
// Accepts what Go's time.ParseDuration accepts, so every value the API server let through parses here.

export class InvalidDurationError extends Error {
  constructor(text: string) {
    super(
      `"${text}" is not a duration: write a number and a unit (h, m, s, ms, us or ns), e.g. 1h30m or 90s`,
    );
    this.name = 'InvalidDurationError';
  }
}

const millisecondsPerUnit: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// One "<number><unit>" segment; the number may be "1", "1.5", "1." or ".5" as in Go.
const segment = /(\d*)(?:\.(\d*))?([a-zµμ]+)/y;

/** Parses a Go-style duration into milliseconds (fractional below 1ms, negative with a leading '-'). */
export function parseDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new InvalidDurationError(text);

  let total = 0;
  segment.lastIndex = 0;
  while (segment.lastIndex < rest.length) {
    const start = segment.lastIndex;
    const match = segment.exec(rest);
    if (!match || match.index !== start) throw new InvalidDurationError(text);
    const [, whole = '', fraction = '', unit = ''] = match;
    const perUnit = millisecondsPerUnit[unit];
    if (perUnit === undefined || (whole === '' && fraction === '')) throw new InvalidDurationError(text);
    total += Number(`${whole || '0'}.${fraction || '0'}`) * perUnit;
  }
  if (!Number.isFinite(total)) throw new InvalidDurationError(text);
  return sign * total;
}
