// Removes what a real node leaves on the host once its processes are stopped: containerd's shims and the
// containers they ran, the mounts under the run folder (pod volumes, container root filesystems), the
// node's cgroups, and the kernel settings the kubelet changed. Plain JavaScript, because the reaper
// (../reaper.mjs) runs it too when a run is interrupted; both read what start-up recorded in
// <run folder>/node/host-changes.json, so only this run's leftovers are touched.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const hostChangesFile = (runDir) => path.join(runDir, 'node', 'host-changes.json');

export function readHostChanges(runDir) {
  try {
    return JSON.parse(readFileSync(hostChangesFile(runDir), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Everything below, in order; each step is best effort and reports what it could not undo. */
export function removeNodeLeftovers(runDir) {
  const changes = readHostChanges(runDir);
  if (!changes) return [];
  const problems = [];
  killProcessesOf(runDir, changes.cgroupName);
  problems.push(...unmountUnder(runDir));
  problems.push(...removeCgroups(changes.cgroupName));
  problems.push(...restoreSysctls(changes.sysctls ?? {}));
  for (const dir of changes.createdPaths ?? []) removeEmptyTree(dir);
  return problems;
}

/**
 * Paths the programs insist on (containerd's shim sockets in /run/containerd/s, the kubelet's device-plugin
 * socket in /var/lib/kubelet) that did not exist before the run: emptied of sockets and empty folders only,
 * so nothing another program put there is removed.
 */
function removeEmptyTree(dir) {
  for (const entry of readdirSafe(dir, true)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removeEmptyTree(full);
    else if (entry.isSocket()) rmSync(full, { force: true });
  }
  try {
    rmdirSync(dir);
  } catch {}
}

/** The shims name this run's containerd socket on their command line; containers sit in the node's cgroups. */
function killProcessesOf(runDir, cgroupName) {
  for (let round = 0; round < 20; round += 1) {
    const pids = new Set([...shimsOf(runDir), ...processesInCgroups(cgroupName)]);
    pids.delete(process.pid);
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    sleepMs(100);
  }
}

function shimsOf(runDir) {
  const pids = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (command.includes('containerd-shim') && command.includes(runDir)) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

/** Every cgroup folder of the node, deepest first, in every hierarchy (cgroup v1 and v2). */
export function cgroupFolders(cgroupName) {
  if (!cgroupName) return [];
  const folders = [];
  for (const hierarchy of cgroupHierarchies()) {
    const root = path.join(hierarchy, cgroupName);
    const walk = (dir) => {
      for (const entry of readdirSafe(dir, true)) if (entry.isDirectory()) walk(path.join(dir, entry.name));
      folders.push(dir);
    };
    if (readdirSafe(root).length > 0) walk(root);
  }
  return folders;
}

export function cgroupHierarchies() {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  return mounts
    .map((line) => line.split(' '))
    .filter(([, , type]) => type === 'cgroup' || type === 'cgroup2')
    .map(([, mountPoint]) => mountPoint);
}

function processesInCgroups(cgroupName) {
  const pids = [];
  for (const folder of cgroupFolders(cgroupName)) {
    try {
      for (const line of readFileSync(path.join(folder, 'cgroup.procs'), 'utf8').split('\n'))
        if (line) pids.push(Number(line));
    } catch {}
  }
  return pids;
}

/** Mounts below the run folder, deepest first; a busy one is detached (lazy) rather than left. */
export function unmountUnder(runDir) {
  const problems = [];
  const prefix = `${runDir}/`;
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point) => point?.startsWith(prefix))
    .map((point) => point.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const point of new Set(points)) {
    try {
      execFileSync('umount', [point], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('umount', ['-l', point], { stdio: 'ignore' });
      } catch {
        problems.push(`could not unmount ${point}`);
      }
    }
  }
  return problems;
}

function removeCgroups(cgroupName) {
  const problems = [];
  for (const folder of cgroupFolders(cgroupName)) {
    let removed = false;
    for (let attempt = 0; attempt < 20 && !removed; attempt += 1) {
      try {
        rmdirSync(folder);
        removed = true;
      } catch (error) {
        if (error.code === 'ENOENT') removed = true;
        else sleepMs(100);
      }
    }
    if (!removed) problems.push(`could not remove cgroup ${folder}`);
  }
  return problems;
}

/** Puts back the values recorded before the kubelet started (it sets them for its own needs). */
function restoreSysctls(sysctls) {
  const problems = [];
  for (const [name, value] of Object.entries(sysctls)) {
    try {
      writeFileSync(path.join('/proc/sys', ...name.split('.')), `${value}\n`);
    } catch (error) {
      problems.push(`could not restore ${name}=${value}: ${error.message}`);
    }
  }
  return problems;
}

function readdirSafe(dir, withFileTypes = false) {
  try {
    return readdirSync(dir, { withFileTypes });
  } catch {
    return [];
  }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
