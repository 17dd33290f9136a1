// Types of leftovers.mjs (plain JavaScript so that the reaper can run it without TypeScript).
export interface HostChanges {
  /** The node's cgroup, one folder per hierarchy: /sys/fs/cgroup/<controller>/<cgroupName>. */
  cgroupName: string;
  /** Kernel settings as they were before the kubelet started: name (dotted) -> value. */
  sysctls: Record<string, string>;
  /** Host folders the node's programs create that did not exist before the run. */
  createdPaths: string[];
}
export const hostChangesFile: (runDir: string) => string;
export function readHostChanges(runDir: string): HostChanges | undefined;
export function removeNodeLeftovers(runDir: string): string[];
export function cgroupFolders(cgroupName: string): string[];
export function cgroupHierarchies(): string[];
/** Unmounts everything mounted below `dir`, deepest first; returns what could not be unmounted. */
export function unmountUnder(dir: string): string[];
