// The real node registers under the machine's host name; pods choose it by the label below, whatever the
// machine is called. The API server would reach the kubelet by that name (for `kubectl logs`, when it
// resolves); the suite reads containers' logs from the kubelet's log folder instead.
import os from 'node:os';

export const realNodeName = os.hostname().toLowerCase();
export const realNodeLabel = { key: 'secretlink.dev/node', value: 'real' } as const;
