// The node's own images, made from the host's static busybox because nothing can be pulled: the sandbox
// ("pause") image that holds each pod's namespaces, and a busybox image for Job containers (sh, cat,
// sha256sum). Both are a few megabytes and made afresh for every run.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeOciArchive } from './oci.ts';

const exec = promisify(execFile);

export const pauseImage = 'localhost/secretlink/pause:1';
export const busyboxImage = 'localhost/secretlink/busybox:1';

/** A root filesystem with busybox and a link for each of its commands in /bin, and /usr/bin/env. */
export async function busyboxRootfs(busybox: string, dir: string): Promise<string> {
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'usr', 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'tmp'), { recursive: true, mode: 0o1777 });
  await copyFile(busybox, path.join(dir, 'bin', 'busybox'));
  const { stdout } = await exec(busybox, ['--list']);
  for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox'))
    await symlink('busybox', path.join(dir, 'bin', applet)).catch(() => undefined);
  await symlink('/bin/busybox', path.join(dir, 'usr', 'bin', 'env'));
  return dir;
}

/** Writes the pause and busybox image archives into `dir`; returns their paths. */
export async function writeNodeImages(busybox: string, dir: string): Promise<string[]> {
  const rootfs = await busyboxRootfs(busybox, path.join(dir, 'busybox-rootfs'));
  const pause = path.join(dir, 'pause.tar');
  const tools = path.join(dir, 'busybox.tar');
  // The sandbox process only has to exist; containerd stops it with SIGKILL.
  await writeOciArchive(
    { name: pauseImage, layers: [rootfs], config: { Entrypoint: ['/bin/sleep', '2147483647'] } },
    pause,
  );
  await writeOciArchive({ name: busyboxImage, layers: [rootfs], config: { Cmd: ['/bin/sh'] } }, tools);
  return [pause, tools];
}
