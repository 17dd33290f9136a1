// A real, tiny filesystem for a test to fill up and free again: an ext4 image of a few hundred KiB, loop-mounted
// under the run folder. Blocks are 1 KiB with none reserved, so once `fill` has taken every free block any
// write of more than 1 KiB fails with ENOSPC, as on a full audit volume. It is mounted `errors=remount-ro`, as
// a data volume usually is, so `turnReadOnly` (a filesystem error raised through ext4's sysfs) makes every
// later write fail with EROFS while the mount still reports free space. Mounting needs root;
// `canMountVolumes` says whether this machine can.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TinyVolume {
  /** The mount point. */
  dir: string;
  /** Takes every free block with a filler file. */
  fill(): Promise<void>;
  /** Removes the filler: space returns. */
  free(): Promise<void>;
  /** Raises a filesystem error: the kernel turns the volume read-only until it is mounted again. */
  turnReadOnly(): Promise<void>;
  /** Unmounts and removes the image; safe to call more than once, and after a failed mount. */
  remove(): Promise<void>;
}

/** Whether this process may mount a loop device (root, with mkfs.ext4 on the PATH). */
export async function canMountVolumes(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  return run('mkfs.ext4', ['-V']).then(
    () => true,
    () => false,
  );
}

export async function mountTinyVolume(parent: string, name: string, sizeKiB = 512): Promise<TinyVolume> {
  const image = path.join(parent, `${name}.img`);
  const dir = path.join(parent, name);
  const filler = path.join(dir, 'filler');
  await fs.mkdir(dir, { recursive: true });
  let mounted = false;
  const remove = async () => {
    if (mounted) {
      // A lazy unmount as the fallback: the test run must not leave a mount behind, even on a busy volume.
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      mounted = false;
    }
    await fs.rm(image, { force: true });
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await run('truncate', ['-s', `${sizeKiB}K`, image]);
    await run('mkfs.ext4', ['-q', '-F', '-b', '1024', '-m', '0', '-O', '^has_journal', image]);
    await run('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
    mounted = true;
    await fs.chmod(dir, 0o700);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    dir,
    remove,
    fill: async () => {
      const handle = await fs.open(
        filler,
        constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
        0o600,
      );
      try {
        for (const chunk of [64 * 1024, 4096, 1024, 256, 1]) {
          const bytes = Buffer.alloc(chunk);
          for (;;) {
            const written = await handle.write(bytes).catch((error: NodeJS.ErrnoException) => {
              if (error.code === 'ENOSPC') return undefined;
              throw error;
            });
            if (!written || written.bytesWritten < chunk) break;
          }
        }
        await handle.sync().catch(() => undefined);
      } finally {
        await handle.close();
      }
    },
    free: () => fs.rm(filler, { force: true }),
    turnReadOnly: async () => {
      const { stdout } = await run('findmnt', ['-n', '-o', 'SOURCE', dir]);
      const device = path.basename(stdout.trim());
      await fs.writeFile(`/sys/fs/ext4/${device}/trigger_fs_error`, '1');
    },
  };
}
