// The real node registers under the machine's host name, which must resolve (to 127.0.0.1 is enough) for
// the API server to reach its kubelet; pods choose it by the label below, whatever the machine is called.
import os from 'node:os';

export const realNodeName = os.hostname().toLowerCase();
export const realNodeLabel = { key: 'secretlink.dev/node', value: 'real' } as const;
