// Records, for the whole test run, every object the operator could leak a value into and that a test might
// delete before the run ends: Events (core and events.k8s.io share one store) and the status of every
// secretlink object. The canary scan reads what it wrote. Watches that fail (a CRD not installed yet, a
// closed connection) are started again a second later.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

const watchedPaths = {
  events: '/api/v1/events',
  secretreferences: '/apis/secretlink.dev/v1alpha1/secretreferences',
  secretstores: '/apis/secretlink.dev/v1alpha1/secretstores',
  clustersecretstores: '/apis/secretlink.dev/v1alpha1/clustersecretstores',
} as const;

const restartDelayMs = 1000;

export interface EvidenceRecorder {
  stop(): Promise<void>;
}

export async function startEvidenceRecorder(kubeconfig: string, dir: string): Promise<EvidenceRecorder> {
  await mkdir(dir, { recursive: true });
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const watch = new k8s.Watch(config);
  let stopped = false;
  const outputs: WriteStream[] = [];
  const requests = new Map<string, AbortController>();

  const follow = (resource: string, apiPath: string, out: WriteStream) => {
    if (stopped) return;
    const restart = () => {
      requests.delete(resource);
      if (!stopped) setTimeout(() => follow(resource, apiPath, out), restartDelayMs).unref();
    };
    watch
      .watch(
        apiPath,
        {},
        (type, object) => {
          out.write(`${JSON.stringify({ type, object })}\n`);
        },
        restart,
      )
      .then((request) => requests.set(resource, request), restart);
  };

  for (const [resource, apiPath] of Object.entries(watchedPaths)) {
    const out = createWriteStream(path.join(dir, `${resource}.jsonl`), { flags: 'a' });
    outputs.push(out);
    follow(resource, apiPath, out);
  }

  return {
    async stop() {
      stopped = true;
      for (const request of requests.values()) request.abort();
      await Promise.all(outputs.map((out) => new Promise((resolve) => out.end(resolve))));
    },
  };
}
