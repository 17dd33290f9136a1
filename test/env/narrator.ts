// The demo tells its story in its own terminal as it happens: it watches the demo namespace's Jobs and pods
// (API server watches) and tails the operator's audit file (inotify through fs.watch), and prints one line
// per event (narration.ts). Once a Secret has been materialized it tries an intruder pod (a server-side dry
// run: nothing is created even if the policy were missing) and says what the API server answered.
import { type FSWatcher, watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { AuditRecord } from '../../src/audit/types.ts';
import type { EnvironmentInfo } from './environment.ts';
import {
  auditLine,
  intruderLine,
  jobFinished,
  jobStarted,
  podRunning,
  secretUse,
  stamped,
} from './narration.ts';

export interface NarrationTarget {
  namespace: string;
  /** The Secret the demo's SecretReference materializes. */
  secretName: string;
  /** The operator's audit file (JSON lines). */
  auditFile: string;
}

export interface Narrator {
  stop(): Promise<void>;
}

export async function startNarrator(
  info: Pick<EnvironmentInfo, 'kubeconfig'>,
  target: NarrationTarget,
  say: (line: string) => void,
): Promise<Narrator> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(info.kubeconfig);
  const tell = (text: string) => say(stamped(text));
  const started = new Set<string>();
  const finished = new Set<string>();
  const running = new Set<string>();
  let intruderTried = false;
  let stopped = false;

  const onJob = (job: k8s.V1Job) => {
    const uid = job.metadata?.uid ?? '';
    const end = jobFinished(job);
    if (!started.has(uid) && !end) {
      started.add(uid);
      tell(jobStarted(job));
    }
    if (end && started.has(uid) && !finished.has(uid)) {
      finished.add(uid);
      tell(end);
    }
  };
  const onPod = (pod: k8s.V1Pod) => {
    const uid = pod.metadata?.uid ?? '';
    const use = secretUse(pod, target.secretName);
    if (use && pod.status?.phase === 'Running' && !running.has(uid)) {
      running.add(uid);
      tell(podRunning(pod, target.secretName, use));
    }
  };
  const onRecord = (record: AuditRecord) => {
    tell(auditLine(record));
    if (record.action === 'Materialized' && !intruderTried) {
      intruderTried = true;
      void tryIntruder(config, target).then((refusal) => tell(intruderLine(target.secretName, refusal)));
    }
  };

  const watches = [
    keepWatching(config, `/apis/batch/v1/namespaces/${target.namespace}/jobs`, onJob, () => stopped),
    keepWatching(config, `/api/v1/namespaces/${target.namespace}/pods`, onPod, () => stopped),
  ];
  const tail = tailAuditFile(target.auditFile, onRecord);
  return {
    async stop() {
      stopped = true;
      for (const watching of watches) (await watching).abort();
      tail.close();
    },
  };
}

/** A watch that starts again (with a fresh list) whenever the API server ends it, until stopped. */
async function keepWatching<T>(
  config: k8s.KubeConfig,
  resourcePath: string,
  handle: (object: T) => void,
  isStopped: () => boolean,
): Promise<AbortController> {
  const current = new AbortController();
  const start = async (): Promise<void> => {
    if (isStopped()) return;
    const controller = await new k8s.Watch(config).watch(
      resourcePath,
      {},
      (type: string, object: T) => {
        if (type === 'ADDED' || type === 'MODIFIED') handle(object);
      },
      () => {
        // The server closes watches now and then; the seen-sets keep a relist from repeating a line.
        if (!isStopped()) setImmediate(() => void start().catch(() => undefined));
      },
    );
    current.signal.addEventListener('abort', () => controller.abort(), { once: true });
  };
  await start();
  return current;
}

/** Reads each complete line appended to the audit file, from its start; the file may not exist yet. */
function tailAuditFile(file: string, onRecord: (record: AuditRecord) => void): FSWatcher {
  let offset = 0;
  let pending = '';
  let reading = Promise.resolve();
  const readNew = () => {
    reading = reading
      .then(async () => {
        const handle = await fs.open(file, 'r').catch(() => undefined);
        if (!handle) return;
        try {
          const { size } = await handle.stat();
          if (size <= offset) return;
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          offset = size;
          const lines = (pending + buffer.toString('utf8')).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            const entry = JSON.parse(line) as Partial<AuditRecord>;
            // The chain's genesis line is bookkeeping, not an access.
            if (entry.action) onRecord(entry as AuditRecord);
          }
        } finally {
          await handle.close();
        }
      })
      .catch(() => undefined);
  };
  // The folder, not the file: the operator creates the file only once it leads.
  const watcher = watch(path.dirname(file), () => readNew());
  readNew();
  return watcher;
}

/** The API server's answer to a bare pod that mounts the Secret: its refusal message, or undefined if admitted. */
async function tryIntruder(config: k8s.KubeConfig, target: NarrationTarget): Promise<string | undefined> {
  try {
    await config.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
      namespace: target.namespace,
      dryRun: 'All',
      body: {
        metadata: { name: 'intruder' },
        spec: {
          containers: [{ name: 'intruder', image: 'busybox', command: ['cat', '/secret/DBT_PASSWORD'] }],
          volumes: [{ name: 'secret', secret: { secretName: target.secretName } }],
        },
      },
    });
    return undefined;
  } catch (error) {
    return refusalMessage(error);
  }
}

/** The Status message of a failed API call (client-node hands the body over as text or parsed). */
function refusalMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  const parsed =
    typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string });
  return parsed?.message ?? String(error);
}
