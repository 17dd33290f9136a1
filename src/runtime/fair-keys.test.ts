import { describe, expect, it } from 'vitest';
import { FairKeys, namespaceOf, storeNamespaceOf } from './fair-keys.ts';

function drain(keys: FairKeys): string[] {
  const taken: string[] = [];
  for (let next = keys.take(); next; next = keys.take()) taken.push(next.key);
  return taken;
}

describe('FairKeys', () => {
  it('takes keys in turns between namespaces, oldest first within each', () => {
    const keys = new FairKeys();
    for (const key of ['a/1', 'a/2', 'a/3', 'b/1', 'c/1', 'c/2']) keys.add(key, 0);
    expect(drain(keys)).toEqual(['a/1', 'b/1', 'c/1', 'a/2', 'c/2', 'a/3']);
  });

  it("gives a namespace's single key the next turn however many keys another namespace queued first", () => {
    const keys = new FairKeys();
    for (let index = 0; index < 1000; index++) keys.add(`noisy/ref-${index}`, index);
    keys.add('quiet/warehouse', 1000);
    expect(keys.take()?.key).toBe('noisy/ref-0');
    expect(keys.take()).toEqual({ key: 'quiet/warehouse', addedAt: 1000 });
    expect(keys.size).toBe(999);
  });

  it('puts a namespace that had nothing ready at the end of the current round', () => {
    const keys = new FairKeys();
    keys.add('a/1', 0);
    keys.add('a/2', 0);
    keys.add('b/1', 0);
    expect(keys.take()?.key).toBe('a/1');
    keys.add('c/1', 0);
    expect(drain(keys)).toEqual(['b/1', 'a/2', 'c/1']);
  });

  it('holds a key once however often it is added, and forgets everything on clear', () => {
    const keys = new FairKeys();
    keys.add('a/1', 5);
    keys.add('a/1', 9);
    expect(keys.size).toBe(1);
    expect(keys.has('a/1')).toBe(true);
    expect(keys.take()).toEqual({ key: 'a/1', addedAt: 5 });
    expect(keys.has('a/1')).toBe(false);
    keys.add('b/1', 0);
    keys.clear();
    expect(keys.size).toBe(0);
    expect(keys.take()).toBeUndefined();
  });

  it('treats a key without a namespace as its own partition', () => {
    expect(namespaceOf('team-a/ref')).toBe('team-a');
    expect(namespaceOf('ClusterSecretStore:shared')).toBe('');
  });

  it('shares store keys by the namespace of the SecretStore, cluster-scoped stores in one turn', () => {
    expect(storeNamespaceOf('SecretStore/team-a/vault')).toBe('team-a');
    expect(storeNamespaceOf('ClusterSecretStore/shared')).toBe('');
    const keys = new FairKeys(storeNamespaceOf);
    for (const key of ['SecretStore/a/1', 'SecretStore/a/2', 'SecretStore/b/1', 'ClusterSecretStore/c'])
      keys.add(key, 0);
    expect(drain(keys)).toEqual([
      'SecretStore/a/1',
      'SecretStore/b/1',
      'ClusterSecretStore/c',
      'SecretStore/a/2',
    ]);
  });
});
