// Every write a replica makes is fenced by its leadership: a replica that was frozen (SIGSTOP, a paused VM, a
// long GC pause) wakes with events queued and reconciles in flight, and its timers have not yet told it that
// another replica took the Lease. A write is refused unless this replica's last renewal is recent enough that
// no other replica can hold the Lease yet; reads go through. The refusal fails the reconcile like any error.
import type { ClusterWriter } from './ports.ts';
import type { StoreStatusWriter } from './store-status-reconciler.ts';

export class NotLeadingError extends Error {
  override readonly name = 'NotLeadingError';
}

export function fenceWriter<W extends ClusterWriter & StoreStatusWriter>(
  writer: W,
  leading: () => boolean,
): W {
  const fenced =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (!leading()) throw new NotLeadingError('this replica no longer holds the Lease; nothing is written');
      return write(...args);
    };
  return {
    ...writer,
    createSecret: fenced(writer.createSecret.bind(writer)),
    replaceSecret: fenced(writer.replaceSecret.bind(writer)),
    setSecretOwners: fenced(writer.setSecretOwners.bind(writer)),
    deleteSecret: fenced(writer.deleteSecret.bind(writer)),
    addFinalizer: fenced(writer.addFinalizer.bind(writer)),
    removeFinalizer: fenced(writer.removeFinalizer.bind(writer)),
    writeStatus: fenced(writer.writeStatus.bind(writer)),
    writeStoreStatus: fenced(writer.writeStoreStatus.bind(writer)),
  };
}
