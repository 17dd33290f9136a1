import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { collectionPath, decodeObject, deepFreeze } from './resource-list.ts';

const job = { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true, model: 'V1Job' };
const reference = {
  apiVersion: 'secretlink.dev/v1alpha1',
  kind: 'SecretReference',
  plural: 'secretreferences',
  namespaced: true,
};
const clusterStore = {
  ...reference,
  kind: 'ClusterSecretStore',
  plural: 'clustersecretstores',
  namespaced: false,
};
const secret = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, model: 'V1Secret' };

describe('collectionPath', () => {
  it.each([
    [secret, 'etl', '/api/v1/namespaces/etl/secrets'],
    [secret, undefined, '/api/v1/secrets'],
    [job, 'etl', '/apis/batch/v1/namespaces/etl/jobs'],
    [reference, undefined, '/apis/secretlink.dev/v1alpha1/secretreferences'],
    [clusterStore, 'ignored', '/apis/secretlink.dev/v1alpha1/clustersecretstores'],
  ])('builds the path of %o in %s', (kind, namespace, path) => {
    expect(collectionPath(kind, namespace)).toBe(path);
  });
});

describe('decodeObject', () => {
  it('gives a built-in object from a list the shape of the typed clients: kind filled in, Dates, frozen', () => {
    const decoded = decodeObject<V1Job>(job, {
      metadata: { name: 'load', namespace: 'etl', creationTimestamp: '2030-01-02T03:04:05Z' },
      status: { startTime: '2030-01-02T03:04:06Z' },
    });
    expect(decoded.kind).toBe('Job');
    expect(decoded.apiVersion).toBe('batch/v1');
    expect(decoded.status?.startTime).toEqual(new Date('2030-01-02T03:04:06Z'));
    expect(Object.isFrozen(decoded.status)).toBe(true);
  });

  it('decodes only the metadata of a custom resource, keeping spec and status as JSON', () => {
    const decoded = decodeObject(reference, {
      metadata: { name: 'warehouse', creationTimestamp: '2030-01-02T03:04:05Z' },
      spec: { ttl: '1h' },
      status: { writtenAt: '2030-01-02T03:04:06Z' },
    }) as unknown as { metadata: { creationTimestamp: Date }; spec: unknown; status: unknown };
    expect(decoded.metadata.creationTimestamp).toEqual(new Date('2030-01-02T03:04:05Z'));
    expect(decoded.spec).toEqual({ ttl: '1h' });
    expect(decoded.status).toEqual({ writtenAt: '2030-01-02T03:04:06Z' });
  });

  it('keeps no managedFields in the cache, whatever the kind, and leaves the rest of the metadata', () => {
    const managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: {} }];
    const labels = { app: 'etl' };
    const decodedJob = decodeObject<V1Job>(job, { metadata: { name: 'load', labels, managedFields } });
    const decodedReference = decodeObject(reference, { metadata: { name: 'warehouse', managedFields } });
    const decodedSecret = decodeObject(secret, { metadata: { name: 'db', labels, managedFields } }, true);
    for (const decoded of [decodedJob, decodedReference, decodedSecret]) {
      expect(decoded.metadata).not.toHaveProperty('managedFields');
    }
    expect(decodedJob.metadata?.labels).toEqual(labels);
    expect(decodedSecret.metadata?.labels).toEqual(labels);
  });

  it('names the resource a metadata-only object describes, not PartialObjectMetadata', () => {
    const decoded = decodeObject(
      secret,
      {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: { name: 'db', namespace: 'etl' },
      },
      true,
    );
    expect(decoded).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' } });
  });
});

describe('deepFreeze', () => {
  it('makes nested objects and arrays read-only', () => {
    const frozen = deepFreeze({ spec: { items: [{ name: 'a' }] } });
    expect(() => {
      frozen.spec.items[0]!.name = 'b';
    }).toThrow(TypeError);
    expect(() => frozen.spec.items.push({ name: 'c' })).toThrow(TypeError);
  });
});
