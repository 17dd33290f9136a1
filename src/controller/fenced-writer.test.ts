// A replica that may not be leading writes nothing, and still reads.
import { describe, expect, it } from 'vitest';
import type { SecretReference } from '../api/types.ts';
import { fenceWriter, NotLeadingError } from './fenced-writer.ts';
import type { ClusterWriter } from './ports.ts';
import type { StoreStatusWriter } from './store-status-reconciler.ts';

function recordingWriter() {
  const calls: string[] = [];
  const call = (name: string) => async () => {
    calls.push(name);
    return undefined as never;
  };
  const writer: ClusterWriter & StoreStatusWriter = {
    readSecret: call('readSecret'),
    readJob: call('readJob'),
    createSecret: call('createSecret'),
    replaceSecret: call('replaceSecret'),
    setSecretOwners: call('setSecretOwners'),
    deleteSecret: call('deleteSecret'),
    addFinalizer: call('addFinalizer'),
    removeFinalizer: call('removeFinalizer'),
    writeStatus: call('writeStatus'),
    writeStoreStatus: call('writeStoreStatus'),
  };
  return { writer, calls };
}

describe('the leadership fence on writes', () => {
  it('refuses every write while the replica may not lead, lets reads through, and writes again once it does', async () => {
    const { writer, calls } = recordingWriter();
    let leading = false;
    const fenced = fenceWriter(writer, () => leading);
    const reference = {} as SecretReference;
    const writes = [
      () => fenced.createSecret({}),
      () => fenced.replaceSecret({}),
      () => fenced.setSecretOwners({}, {}),
      () => fenced.deleteSecret({}),
      () => fenced.addFinalizer(reference),
      () => fenced.removeFinalizer(reference),
      () => fenced.writeStatus(reference, {}),
      () => fenced.writeStoreStatus({} as never, {} as never),
    ];
    for (const write of writes) await expect(write()).rejects.toThrow(NotLeadingError);
    await fenced.readSecret('etl', 'warehouse');
    await fenced.readJob('etl', 'dbt');
    expect(calls).toEqual(['readSecret', 'readJob']);

    leading = true;
    for (const write of writes) await write();
    expect(calls).toHaveLength(2 + writes.length);
  });
});
