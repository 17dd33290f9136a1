// The operator's requests as the API server saw them: an audit policy that logs only the operator's user at
// Metadata level (no bodies, so no value is ever written to the log), and the log read back, counted by verb
// and resource over a window and sorted into what is expected at rest (Lease renewals, watches started again
// after the server closed them) and what is not.
import { readFile } from 'node:fs/promises';

/** kube-apiserver's audit policy: the operator's requests, nothing else, one event when received and one when done. */
export function operatorAuditPolicy(username: string): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [ResponseStarted]',
    'rules:',
    '  - level: Metadata',
    `    users: [${JSON.stringify(username)}]`,
    '  - level: None',
    '',
  ].join('\n');
}

export interface ApiRequest {
  /** Milliseconds since the epoch, when the API server received it. */
  at: number;
  verb: string;
  /** `group/resource[/subresource]`, core resources without a group; or the non-resource path. */
  resource: string;
  name: string;
  namespace: string;
  uri: string;
  /** HTTP status of the answer; 0 when the log holds no answer yet (a watch still open). */
  code: number;
  /**
   * Milliseconds from receipt to the answer, as the API server logged them (API Priority and Fairness's queueing
   * included); undefined while no answer is logged.
   */
  serverMs?: number;
}

export type RequestClass = 'renewal' | 'watch' | 'unexpected';

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  requestReceivedTimestamp: string;
  stageTimestamp?: string;
  objectRef?: {
    resource?: string;
    subresource?: string;
    apiGroup?: string;
    name?: string;
    namespace?: string;
  };
  responseStatus?: { code?: number };
}

/** Every request in the audit log received in [from, to), one per audit id (its received and completed events joined). */
export async function readApiRequests(file: string, from: number, to: number): Promise<ApiRequest[]> {
  const byId = new Map<string, ApiRequest>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as AuditEvent;
    const at = Date.parse(event.requestReceivedTimestamp);
    if (at < from || at >= to) continue;
    const known = byId.get(event.auditID);
    const code = event.responseStatus?.code ?? 0;
    const serverMs =
      event.stage === 'ResponseComplete' && event.stageTimestamp
        ? Date.parse(event.stageTimestamp) - at
        : undefined;
    if (known) {
      if (code) known.code = code;
      if (serverMs !== undefined) known.serverMs = serverMs;
      continue;
    }
    const ref = event.objectRef;
    const resource = ref?.resource
      ? [ref.apiGroup, ref.resource].filter(Boolean).join('/') +
        (ref.subresource ? `/${ref.subresource}` : '')
      : event.requestURI.split('?')[0]!;
    byId.set(event.auditID, {
      at,
      verb: event.verb,
      resource,
      name: ref?.name ?? '',
      namespace: ref?.namespace ?? '',
      uri: event.requestURI,
      code,
      serverMs,
    });
  }
  return [...byId.values()].sort((a, b) => a.at - b.at);
}

/**
 * What a request at rest is: reading and updating a Lease is leader election renewing it; a watch is an
 * informer starting its watch again after the server ended the last one (watches are given a timeout). Anything
 * else (a list, a get of anything but a Lease, a write) is work that a cluster with no change should not cause.
 */
export function classify(request: Pick<ApiRequest, 'verb' | 'resource'>): RequestClass {
  if (request.verb === 'watch') return 'watch';
  if (
    request.resource === 'coordination.k8s.io/leases' &&
    (request.verb === 'get' || request.verb === 'update')
  )
    return 'renewal';
  return 'unexpected';
}

export interface RequestCount {
  kind: RequestClass;
  verb: string;
  resource: string;
  count: number;
  /** Of which answered with an error status (400 and above). */
  failed: number;
  /** The API server's receipt-to-answer times of those answered (`serverMs`), ascending. */
  serverMs: number[];
}

/** Counts by class, verb and resource: renewals first, then watches, then the unexpected, most frequent first. */
export function countRequests(requests: readonly ApiRequest[]): RequestCount[] {
  const counts = new Map<string, RequestCount>();
  for (const request of requests) {
    const kind = classify(request);
    const key = `${kind} ${request.verb} ${request.resource}`;
    const entry = counts.get(key) ?? {
      kind,
      verb: request.verb,
      resource: request.resource,
      count: 0,
      failed: 0,
      serverMs: [],
    };
    entry.count++;
    if (request.code >= 400) entry.failed++;
    if (request.serverMs !== undefined) entry.serverMs.push(request.serverMs);
    counts.set(key, entry);
  }
  for (const entry of counts.values()) entry.serverMs.sort((a, b) => a - b);
  const order: RequestClass[] = ['renewal', 'watch', 'unexpected'];
  return [...counts.values()].sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || b.count - a.count,
  );
}
