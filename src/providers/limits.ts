// A Kubernetes Secret holds at most 1 MiB of data; a value that cannot fit is refused before it travels further.
import { TooLarge } from './errors.ts';

export const secretSizeLimit = 1024 * 1024;

export function assertFitsInSecret(bytes: number, remote: string): void {
  if (bytes > secretSizeLimit) {
    throw new TooLarge(
      `the value of "${remote}" is ${bytes} bytes; a Secret holds at most ${secretSizeLimit}`,
      {
        remote,
      },
    );
  }
}

export function totalSize(values: Record<string, Buffer>): number {
  let total = 0;
  for (const [key, value] of Object.entries(values)) total += Buffer.byteLength(key) + value.length;
  return total;
}
