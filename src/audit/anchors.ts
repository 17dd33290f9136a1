// Anchors: copies of a chain's head kept outside the audit volume, so a file that was cut short, replaced or
// deleted can be told from the one that was written. The operator keeps the latest anchor of its chain on a
// Lease in its own namespace (it reads it back when it opens the file) and reports each anchor as an Event
// regarding that Lease, for log collectors and people to keep.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { reportingController } from './event-sink.ts';

export interface Anchor {
  /** The chain: the operator replica's identity. */
  chain: string;
  seq: number;
  /** SHA-256 of the line with that seq. */
  head: string;
  time: string;
}

export interface AnchorStore {
  /** The last anchor recorded for this chain, if any. */
  latest(): Promise<Anchor | undefined>;
  record(anchor: Anchor): Promise<void>;
}

export const anchorReason = 'AuditAnchor';
const seqAnnotation = 'secretlink.dev/audit-seq';
const headAnnotation = 'secretlink.dev/audit-head';
const timeAnnotation = 'secretlink.dev/audit-time';
const keyAnnotation = 'secretlink.dev/audit-public-key';

/** `secretlink-audit-<chain>`, a valid object name whatever the identity holds. */
export function anchorLeaseName(chain: string): string {
  const safe = chain
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `secretlink-audit-${safe || 'operator'}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/** The Event note of an anchor; `verify --anchor=<seq>:<head>` takes the two values as they appear here. */
export function anchorNote(anchor: Anchor, publicKey: string): string {
  return `chain=${anchor.chain} anchor=${anchor.seq}:${anchor.head} publicKey=${publicKey}`;
}

export class KubernetesAnchors implements AnchorStore {
  private readonly leases: k8s.CoordinationV1Api;
  private readonly events: k8s.EventsV1Api;
  private readonly namespace: string;
  private readonly chain: string;
  private readonly publicKey: string;
  readonly leaseName: string;

  constructor(kubeConfig: k8s.KubeConfig, options: { namespace: string; chain: string; publicKey: string }) {
    this.leases = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.events = kubeConfig.makeApiClient(k8s.EventsV1Api);
    this.namespace = options.namespace;
    this.chain = options.chain;
    this.publicKey = options.publicKey;
    this.leaseName = anchorLeaseName(options.chain);
  }

  async latest(): Promise<Anchor | undefined> {
    const lease = await this.readLease();
    const annotations = lease?.metadata?.annotations ?? {};
    const seq = Number(annotations[seqAnnotation]);
    const head = annotations[headAnnotation];
    if (!Number.isSafeInteger(seq) || seq <= 0 || !head || !/^[0-9a-f]{64}$/.test(head)) return undefined;
    return { chain: this.chain, seq, head, time: annotations[timeAnnotation] ?? '' };
  }

  async record(anchor: Anchor): Promise<void> {
    await this.writeLease(anchor);
    await this.events.createNamespacedEvent({ namespace: this.namespace, body: this.event(anchor) });
  }

  private async writeLease(anchor: Anchor): Promise<void> {
    const annotations = {
      [seqAnnotation]: String(anchor.seq),
      [headAnnotation]: anchor.head,
      [timeAnnotation]: anchor.time,
      [keyAnnotation]: this.publicKey,
    };
    // Only this replica writes its chain's Lease; a conflict means a write of ours raced, so read and retry.
    for (let attempt = 0; ; attempt++) {
      const lease = await this.readLease();
      try {
        if (!lease) {
          await this.leases.createNamespacedLease({
            namespace: this.namespace,
            body: {
              metadata: {
                name: this.leaseName,
                namespace: this.namespace,
                labels: { 'app.kubernetes.io/name': 'secretlink', 'app.kubernetes.io/component': 'audit' },
                annotations,
              },
              spec: {},
            },
          });
        } else {
          lease.metadata = {
            ...lease.metadata,
            annotations: { ...lease.metadata?.annotations, ...annotations },
          };
          await this.leases.replaceNamespacedLease({
            name: this.leaseName,
            namespace: this.namespace,
            body: lease,
          });
        }
        return;
      } catch (error) {
        if (!(error instanceof k8s.ApiException && error.code === 409) || attempt >= 2) throw error;
      }
    }
  }

  private event(anchor: Anchor): k8s.EventsV1Event {
    const suffix = `${Date.now().toString(16)}${randomBytes(4).toString('hex')}`;
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${this.leaseName.slice(0, 200)}.${suffix}`, namespace: this.namespace },
      eventTime: new k8s.V1MicroTime(anchor.time),
      type: 'Normal',
      reason: anchorReason,
      action: 'AnchorAuditChain',
      note: anchorNote(anchor, this.publicKey),
      regarding: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        namespace: this.namespace,
        name: this.leaseName,
      },
      reportingController,
      reportingInstance: this.chain.slice(0, 128),
    };
  }

  private async readLease(): Promise<k8s.V1Lease | undefined> {
    try {
      return await this.leases.readNamespacedLease({ name: this.leaseName, namespace: this.namespace });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }
}
