// A watch that survives the client's idle timeout, shared by the benchmarks.
import * as k8s from '@kubernetes/client-node';

/**
 * Watches from a resourceVersion until stopped. client-node's Watch gives up after 30 s without data, so each
 * watch asks the server to end it after 20 s and is resumed from the last resourceVersion seen (bookmarks
 * included): no event is missed or repeated.
 */
export async function watchFrom(
  kubeConfig: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  resourceVersion: string,
  onEvent: (type: string, object: k8s.KubernetesObject) => void,
  onError: (error: unknown) => void,
): Promise<{ stop(): void }> {
  let stopped = false;
  let current: AbortController | undefined;
  let last = resourceVersion;
  const start = async (): Promise<void> => {
    current = await new k8s.Watch(kubeConfig).watch(
      path,
      { ...query, resourceVersion: last, allowWatchBookmarks: true, timeoutSeconds: 20 },
      (type, object: k8s.KubernetesObject) => {
        if (type === 'ERROR') return onError(new Error(`watch of ${path}: ${JSON.stringify(object)}`));
        last = object.metadata?.resourceVersion ?? last;
        if (type !== 'BOOKMARK') onEvent(type, object);
      },
      (error) => {
        if (stopped) return;
        if (error) onError(error);
        else start().catch(onError);
      },
    );
  };
  await start();
  return {
    stop() {
      stopped = true;
      current?.abort();
    },
  };
}
