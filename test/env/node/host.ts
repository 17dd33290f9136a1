// What a machine needs to run the real node, checked before anything starts so that a machine that cannot
// run it gets one message naming everything missing and how to get it.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Debian packages that provide the node's programs (`make node-packages` installs them as root). */
export const nodePackages = [
  'containerd',
  'runc',
  'containernetworking-plugins',
  'buildah',
  'busybox-static',
];

export const cniBinDirs = ['/usr/lib/cni', '/opt/cni/bin'];

export interface HostPrograms {
  containerd: string;
  ctr: string;
  runc: string;
  buildah: string;
  /** A statically linked busybox: the shell and tools of the local images. */
  busybox: string;
  cniBinDir: string;
}

export class NodeUnavailableError extends Error {
  constructor(missing: string[]) {
    super(
      `the real node cannot run on this machine:\n  ${missing.join('\n  ')}\n` +
        `On Debian or Ubuntu, as root: apt-get install -y ${nodePackages.join(' ')} ` +
        '(or `make node-packages`). The real node runs as root on cgroups (v1 or v2); the suites that ' +
        'need no real node (`npx vitest run --project unit --project integration`) run without it.',
    );
    this.name = 'NodeUnavailableError';
  }
}

export function findHostPrograms(): HostPrograms {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not running as root (containerd and the kubelet need it)');
  const find = (name: string, pkg: string) => {
    const found = onPath(name);
    if (!found) missing.push(`${name} not found on PATH (Debian package ${pkg})`);
    return found ?? '';
  };
  const programs = {
    containerd: find('containerd', 'containerd'),
    ctr: find('ctr', 'containerd'),
    runc: find('runc', 'runc'),
    buildah: find('buildah', 'buildah'),
    busybox: find('busybox', 'busybox-static'),
    cniBinDir: cniBinDirs.find((dir) => existsSync(path.join(dir, 'loopback'))) ?? '',
  };
  if (programs.busybox && !isStaticExecutable(programs.busybox))
    missing.push(`${programs.busybox} is dynamically linked; the images need a static one (busybox-static)`);
  if (!programs.cniBinDir)
    missing.push(`no CNI loopback plugin in ${cniBinDirs.join(' or ')} (containernetworking-plugins)`);
  if (!existsSync('/sys/fs/cgroup')) missing.push('no /sys/fs/cgroup (cgroups are not mounted)');
  if (missing.length > 0) throw new NodeUnavailableError(missing);
  return programs;
}

function onPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** An ELF executable with no program interpreter (PT_INTERP) needs no libraries from the image. */
function isStaticExecutable(file: string): boolean {
  const elf = readFileSync(file);
  const headerOffset = Number(elf.readBigUInt64LE(0x20));
  const headerSize = elf.readUInt16LE(0x36);
  const headerCount = elf.readUInt16LE(0x38);
  for (let index = 0; index < headerCount; index += 1) {
    if (elf.readUInt32LE(headerOffset + index * headerSize) === 3) return false;
  }
  return true;
}
