// containerd as a plain child process of the run, with its root, state, sockets and CNI configuration
// under the run folder, so it shares nothing with a containerd the machine may run, and stops with the run.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type ProcessSupervisor, type ServerProcess, waitUntil } from '../processes.ts';
import type { HostPrograms } from './host.ts';
import { pauseImage } from './images.ts';

const exec = promisify(execFile);

export interface Containerd {
  server: ServerProcess;
  /** unix socket path of its API (and of CRI, for the kubelet). */
  socket: string;
  /** Imports an OCI archive into the namespace the kubelet uses. */
  importImage(archive: string): Promise<void>;
}

export async function startContainerd(
  supervisor: ProcessSupervisor,
  programs: HostPrograms,
  dir: string,
): Promise<Containerd> {
  const socket = path.join(dir, 'containerd.sock');
  const cniConfDir = path.join(dir, 'cni');
  await mkdir(cniConfDir, { recursive: true });
  // Pods here use the host's network; CRI still wants one network configured before it reports ready.
  await writeFile(
    path.join(cniConfDir, '10-loopback.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'loopback', plugins: [{ type: 'loopback' }] }),
  );
  const config = path.join(dir, 'config.toml');
  await writeFile(config, containerdConfig(dir, socket, cniConfDir, programs));
  const server = supervisor.start({
    name: 'containerd',
    command: programs.containerd,
    args: ['--config', config],
    // The shims it starts find runc on PATH.
    env: { ...process.env, PATH: `${path.dirname(programs.runc)}:${process.env.PATH ?? ''}` },
  });
  const ctr = (...args: string[]) =>
    exec(programs.ctr, ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 8 << 20 });
  const answers = async () => {
    await ctr('version');
    return true;
  };
  await waitUntil('containerd to answer on its socket', answers, {
    timeoutMs: 30_000,
    server,
  });
  return {
    server,
    socket,
    importImage: async (archive) => {
      await ctr('images', 'import', archive);
    },
  };
}

function containerdConfig(dir: string, socket: string, cniConfDir: string, programs: HostPrograms): string {
  const quote = (value: string) => JSON.stringify(value);
  return `version = 2
root = ${quote(path.join(dir, 'root'))}
state = ${quote(path.join(dir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${quote(socket)}

[ttrpc]
  address = ${quote(`${socket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${quote(path.join(dir, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${quote(pauseImage)}
  # Root here may lack CAP_SYS_RESOURCE; without this, every sandbox fails with "can't get final child's PID".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = ${quote(programs.runc)}
        Root = ${quote(path.join(dir, 'runc'))}
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${quote(programs.cniBinDir)}
    conf_dir = ${quote(cniConfDir)}
`;
}
