// What the real node changes outside the run folder, recorded before anything starts so that teardown, or
// the reaper after an interrupted run, can undo exactly that (leftovers.mjs): the node's cgroup, three
// kernel settings the kubelet sets for itself, and fixed host folders its programs create.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cgroupHierarchies, type HostChanges, hostChangesFile } from './leftovers.mjs';

/** Settings the kubelet sets at start (protectKernelDefaults is off); put back at teardown. */
const kubeletSysctls = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'];
/** Where containerd 1.6 (shim sockets) and the kubelet (device-plugin socket) write whatever they are told. */
const hostPathsTheNodeCreates = ['/run/containerd', '/var/lib/kubelet'];

export async function recordHostChanges(runDir: string): Promise<HostChanges> {
  const cgroupName = `secretlink-${randomBytes(4).toString('hex')}`;
  const sysctls: Record<string, string> = {};
  for (const name of kubeletSysctls)
    sysctls[name] = (await readFile(path.join('/proc/sys', ...name.split('.')), 'utf8')).trim();
  const createdPaths = hostPathsTheNodeCreates.filter((dir) => !existsSync(dir));
  const changes: HostChanges = { cgroupName, sysctls, createdPaths };
  await mkdir(path.dirname(hostChangesFile(runDir)), { recursive: true });
  await writeFile(hostChangesFile(runDir), JSON.stringify(changes));
  return changes;
}

/** The kubelet requires its cgroup root to exist in every hierarchy; cpuset needs its CPUs and memory nodes. */
export async function createCgroup(cgroupName: string): Promise<void> {
  for (const hierarchy of cgroupHierarchies()) {
    const folder = path.join(hierarchy, cgroupName);
    await mkdir(folder, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const inherited = await readFile(path.join(hierarchy, file), 'utf8').catch(() => undefined);
      if (inherited !== undefined && !hierarchy.endsWith('unified'))
        await writeFile(path.join(folder, file), inherited).catch(() => undefined);
    }
  }
}
