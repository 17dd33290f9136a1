// The content digest: a changed template rewrites the Secret at once; a reference without one keeps the
// digest it had before templates existed, so upgrading the operator rewrites nothing.
import { describe, expect, it } from 'vitest';
import type { SecretReference, SecretTemplate } from '../api/types.ts';
import { referenceFacts } from './reference-facts.ts';

function reference(template?: SecretTemplate): SecretReference {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { name: 'warehouse', namespace: 'etl', uid: 'uid-1' },
    spec: {
      storeRef: { name: 'vault' },
      data: [{ key: 'password', remote: { name: 'elt/warehouse', property: 'password' } }],
      target: { name: 'warehouse', ...(template ? { template } : {}) },
      consumers: { matchLabels: { app: 'dbt' } },
    },
  };
}

const digest = (template?: SecretTemplate) =>
  referenceFacts(reference(template), undefined, false, {}).contentHash;

describe('the content digest of a reference', () => {
  it('changes when the template, or its merge policy, changes', () => {
    const url = { data: { DATABASE_URL: 'postgresql://{{ password }}@db' } };
    expect(digest(url)).not.toBe(digest());
    expect(digest({ data: { DATABASE_URL: 'postgresql://{{ password | url_encode }}@db' } })).not.toBe(
      digest(url),
    );
    expect(digest({ ...url, mergePolicy: 'Merge' })).not.toBe(digest(url));
  });

  it('is what it was before templates existed for a reference without one', () => {
    expect(digest()).toBe('577ecabbd431a6b5d5de42878d895119');
  });
});
