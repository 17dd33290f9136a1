// Runs detached from the test run. When the run's process disappears (finished, crashed, SIGINT, SIGKILL)
// it stops every server the run started and removes the run's folder, so nothing outlives the run.
// A real node's leftovers (containers, mounts, cgroups, kernel settings) are removed before the folder.
// Usage: node reaper.mjs <parent pid> <run folder>
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { removeNodeLeftovers } from './node/leftovers.mjs';

const [parentPid, runDir] = [Number(process.argv[2]), process.argv[3]];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Each line: a process group and the signal that stops it (SIGTERM when the line names none). */
function processGroups() {
  try {
    return readFileSync(path.join(runDir, 'process-groups'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [group, stopSignal] = line.split(' ');
        return { group: Number(group), stopSignal: stopSignal || 'SIGTERM' };
      });
  } catch {
    return [];
  }
}

/** `signal` undefined: each group's own stop signal. */
function signalAll(signal) {
  for (const { group, stopSignal } of processGroups()) {
    try {
      process.kill(-group, signal ?? stopSignal);
    } catch {}
  }
}

const timer = setInterval(() => {
  if (alive(parentPid)) return;
  clearInterval(timer);
  signalAll();
  setTimeout(() => {
    signalAll('SIGKILL');
    removeNodeLeftovers(runDir);
    rmSync(runDir, { recursive: true, force: true });
    process.exit(0);
  }, 3000);
}, 500);
