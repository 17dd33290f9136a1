// Where the environment keeps what outlives one run (built binaries, the moto virtualenv) and what does not.
import os from 'node:os';
import path from 'node:path';

/** Build cache shared by every run on this machine; never inside the repository. */
export function cacheRoot(): string {
  return process.env.SECRETLINK_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'secretlink');
}
