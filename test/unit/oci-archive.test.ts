// The real node's images are written by hand (test/env/node/oci.ts); containerd and buildah import only a
// layout whose every digest and size matches its blob, and whose layer lists the files it was made from.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOciArchive } from '../env/node/oci.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'secretlink-oci-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
  annotations?: Record<string, string>;
}

describe('writeOciArchive', () => {
  it('writes an image layout whose digests, sizes and layer contents match', async () => {
    const rootfs = path.join(dir, 'rootfs');
    mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    writeFileSync(path.join(rootfs, 'bin', 'hello'), 'echo hello\n');
    const archive = path.join(dir, 'image.tar');
    await writeOciArchive(
      { name: 'localhost/test/hello:1', layers: [rootfs], config: { Cmd: ['/bin/hello'] } },
      archive,
    );
    const layout = path.join(dir, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', archive, '-C', layout]);
    const blob = (descriptor: Descriptor) => {
      const content = readFileSync(path.join(layout, 'blobs', 'sha256', descriptor.digest.slice(7)));
      expect(`sha256:${createHash('sha256').update(content).digest('hex')}`).toBe(descriptor.digest);
      expect(content.length).toBe(descriptor.size);
      return content;
    };

    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
    const [manifestDescriptor] = index.manifests as Descriptor[];
    expect(manifestDescriptor!.annotations?.['io.containerd.image.name']).toBe('localhost/test/hello:1');
    const manifest = JSON.parse(blob(manifestDescriptor!).toString());
    const config = JSON.parse(blob(manifest.config).toString());
    expect(config).toMatchObject({ os: 'linux', architecture: 'amd64', config: { Cmd: ['/bin/hello'] } });
    expect(config.rootfs.diff_ids).toEqual(manifest.layers.map((layer: Descriptor) => layer.digest));

    const layerFile = path.join(dir, 'layer.tar');
    writeFileSync(layerFile, blob(manifest.layers[0]));
    const listing = execFileSync('tar', ['-tvf', layerFile], { encoding: 'utf8' });
    expect(listing).toMatch(/0\/0 .* \.\/bin\/hello/);
  });
});
