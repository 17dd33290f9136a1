// Names the API requests an operator sent through its proxy (test/env/api-proxy.ts) by verb and resource, so a
// count can say what the requests were: watches (re)opened, Lease renewals, status writes, lists.
import type { SeenRequest } from '../test/env/api-proxy.ts';

/** `verb resource`, e.g. `watch secrets`, `update leases`, `list externalsecrets`, `get discovery`. */
export function describeRequest({ method, path }: SeenRequest): string {
  const [route = '', query = ''] = path.split('?');
  const parts = route.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...; anything else (/api, /apis, /openapi, /version) is discovery.
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return `${method.toLowerCase()} discovery`;
  const watchPath = rest[0] === 'watch';
  const scoped = watchPath ? rest.slice(1) : rest;
  const [resource = '', name, subresource] =
    scoped[0] === 'namespaces' && scoped.length > 2 ? scoped.slice(2) : scoped;
  const watching = watchPath || /(^|&)watch=(true|1)(&|$)/.test(query);
  const verb = watching
    ? 'watch'
    : method === 'GET'
      ? name
        ? 'get'
        : 'list'
      : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? method.toLowerCase());
  return `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
}

/** Requests counted by description, largest first. */
export function countRequests(requests: readonly SeenRequest[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const described = describeRequest(request);
    counts.set(described, (counts.get(described) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
