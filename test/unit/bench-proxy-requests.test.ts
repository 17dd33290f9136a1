// The side-by-side benchmark (bench/eso.ts) names each API request an operator sent by verb and resource, so
// its count at rest says what the requests were.
import { describe, expect, it } from 'vitest';
import { countRequests, describeRequest } from '../../bench/proxy-requests.ts';

describe('describeRequest', () => {
  it.each([
    ['GET', '/api/v1/namespaces/bench-1/secrets?labelSelector=a%3Db', 'list secrets'],
    ['GET', '/api/v1/namespaces/bench-1/secrets?watch=true&resourceVersion=5', 'watch secrets'],
    ['GET', '/api/v1/watch/namespaces/bench-1/secrets', 'watch secrets'],
    ['GET', '/api/v1/namespaces/bench-1/secrets/aws-credentials', 'get secrets'],
    ['GET', '/api/v1/namespaces', 'list namespaces'],
    ['GET', '/api/v1/namespaces/bench-1', 'get namespaces'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/s/leases/secretlink-bench-3', 'update leases'],
    [
      'PUT',
      '/apis/external-secrets.io/v1/namespaces/b/externalsecrets/es-1/status',
      'update externalsecrets/status',
    ],
    [
      'PATCH',
      '/apis/secretlink.dev/v1alpha1/namespaces/b/secretreferences/ref-1/status',
      'patch secretreferences/status',
    ],
    ['GET', '/apis/external-secrets.io/v1/clustersecretstores?watch=1', 'watch clustersecretstores'],
    ['POST', '/api/v1/namespaces/b/events', 'create events'],
    ['DELETE', '/api/v1/namespaces/b/secrets/target-1', 'delete secrets'],
    ['GET', '/apis', 'get discovery'],
    ['GET', '/apis/external-secrets.io/v1', 'get discovery'],
  ])('%s %s is "%s"', (method, path, expected) => {
    expect(describeRequest({ method, path })).toBe(expected);
  });
});

describe('countRequests', () => {
  it('counts by description, largest first', () => {
    const lease = { method: 'PUT', path: '/apis/coordination.k8s.io/v1/namespaces/s/leases/l' };
    const watch = { method: 'GET', path: '/api/v1/pods?watch=true' };
    expect(countRequests([watch, lease, lease])).toEqual([
      ['update leases', 2],
      ['watch pods', 1],
    ]);
  });
});
