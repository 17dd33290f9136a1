// Writes an OCI image archive (an image layout in a tar file) from folders on disk, one layer per folder.
// No registry is reachable here, so the real node's images are made this way and imported into containerd
// (`ctr images import`) or buildah. tar, SHA-256 and three JSON documents are all an image is.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ImageSpec {
  /** Full reference, as containerd will know it: `localhost/secretlink/busybox:1`. */
  name: string;
  /** Folders whose contents become the layers, bottom first. */
  layers: string[];
  config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string; WorkingDir?: string };
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export async function writeOciArchive(image: ImageSpec, archive: string): Promise<void> {
  const layout = await mkdtemp(`${archive}.layout-`);
  try {
    const blobs = path.join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const addBlob = async (mediaType: string, content: Buffer): Promise<Descriptor> => {
      const hex = createHash('sha256').update(content).digest('hex');
      await writeFile(path.join(blobs, hex), content);
      return { mediaType, digest: `sha256:${hex}`, size: content.length };
    };

    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const folder of image.layers) {
      const tarFile = path.join(layout, 'layer.tar');
      // Fixed owner and times: the same folders make the same layer, whoever builds them.
      await exec('tar', [
        '--create',
        '--file',
        tarFile,
        '--directory',
        folder,
        '--sort=name',
        '--numeric-owner',
        '--owner=0',
        '--group=0',
        '--mtime=@0',
        '.',
      ]);
      const layer = await addBlob('application/vnd.oci.image.layer.v1.tar', await readFile(tarFile));
      await rm(tarFile);
      layers.push(layer);
      diffIds.push(layer.digest);
    }
    const config = await addBlob(
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], ...image.config },
          rootfs: { type: 'layers', diff_ids: diffIds },
        }),
      ),
    );
    const manifest = await addBlob(
      'application/vnd.oci.image.manifest.v1+json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers })),
    );
    const tag = image.name.slice(image.name.lastIndexOf(':') + 1);
    manifest.annotations = {
      'io.containerd.image.name': image.name,
      'org.opencontainers.image.ref.name': tag,
    };
    await writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      path.join(layout, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [manifest] }),
    );
    await exec('tar', ['--create', '--file', archive, '--directory', layout, '.']);
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}
