// dataFrom find's pure decisions: which listed secrets are read (regexp, scope, cap) and which key each becomes.
import { describe, expect, it } from 'vitest';
import { InvalidReference, LimitExceeded, RemoteNotAllowed } from '../providers/errors.ts';
import { foundKey, listQueriesOf, listQueryOf, selectFound } from './find.ts';
import type { RemoteScope } from './remote-access.ts';

const listed = (...names: string[]) => names.map((name) => ({ name }));
const origin = { index: 1, storeName: 'shared-aws', namespace: 'analytics' };
const any: RemoteScope = { kind: 'any' };

describe('which found secrets are read', () => {
  it('keeps names the regexp matches anywhere, as Go’s MatchString does', () => {
    const names = selectFound(
      listed('meltano/tap-postgres/password', 'meltano/tap-mysql/password', 'dbt/password'),
      { name: { regexp: 'tap-postgres' } },
      any,
      100,
      origin,
    );
    expect(names).toEqual(['meltano/tap-postgres/password']);
  });

  it('drops listed secrets outside the namespace’s remoteAccess before anything is read', () => {
    const scope: RemoteScope = { kind: 'listed', names: ['shared/warehouse'], prefixes: ['meltano/'] };
    const names = selectFound(
      listed('meltano/a', 'shared/warehouse', 'shared/other', 'platform/root'),
      { path: 'm' },
      scope,
      100,
      origin,
    );
    expect(names).toEqual(['meltano/a', 'shared/warehouse']);
  });

  it('refuses find through a ClusterSecretStore without remoteAccess, or whose rules do not select the namespace', () => {
    const run = (scope: RemoteScope) => () => selectFound(listed('a'), { path: 'a' }, scope, 100, origin);
    expect(run({ kind: 'names-only' })).toThrow(RemoteNotAllowed);
    expect(run({ kind: 'names-only' })).toThrow(
      'spec.dataFrom[1].find: ClusterSecretStore "shared-aws" has no spec.remoteAccess',
    );
    expect(run({ kind: 'listed', names: [], prefixes: [] })).toThrow(
      'no spec.remoteAccess rule of ClusterSecretStore "shared-aws" selects namespace analytics',
    );
  });

  it('refuses more matches than maxSecrets (default 20), naming the count and reading nothing', () => {
    const many = listed(...Array.from({ length: 21 }, (_, index) => `s${index}`));
    expect(selectFound(many.slice(0, 20), { path: 's' }, any, 100, origin)).toHaveLength(20);
    const over = () => selectFound(many, { path: 's' }, any, 100, origin);
    expect(over).toThrow(LimitExceeded);
    expect(over).toThrow(
      'spec.dataFrom[1].find matches 21 remote secrets and maxSecrets is 20: nothing was read',
    );
    expect(selectFound(many, { path: 's', maxSecrets: 21 }, any, 100, origin)).toHaveLength(21);
  });

  it('names the operator flag when --max-find-secrets is what lowered the cap', () => {
    const five = listed('a', 'b', 'c', 'd', 'e');
    expect(() => selectFound(five, { path: '', maxSecrets: 50 }, any, 4, origin)).toThrow(
      "matches 5 remote secrets and the operator's --max-find-secrets (4) lowers maxSecrets to 4",
    );
  });

  it('refuses a name regexp that could take exponential time, as rewrite does', () => {
    expect(() => selectFound(listed('a'), { name: { regexp: '(a+)+$' } }, any, 100, origin)).toThrow(
      InvalidReference,
    );
    expect(() => selectFound(listed('a'), { name: { regexp: '(a+)+$' } }, any, 100, origin)).toThrow(
      'spec.dataFrom[1].find.name.regexp is refused',
    );
  });
});

describe('which key a found secret becomes', () => {
  it('replaces every character a Secret key cannot hold by _, as External Secrets Operator does', () => {
    expect(foundKey('/path/key1', undefined)).toBe('_path_key1');
    expect(foundKey('key2/path', undefined)).toBe('key2_path');
    expect(foundKey('my key@1', undefined)).toBe('my_key_1');
  });

  it('rewrites the name first, so a path prefix can be cut and the rest turned into env var names', () => {
    const key = foundKey('meltano/tap-postgres/password', [
      { regexp: { source: '^meltano/tap-postgres/', target: '' } },
      { case: 'upper' },
      { prefix: 'TAP_POSTGRES_' },
    ]);
    expect(key).toBe('TAP_POSTGRES_PASSWORD');
  });

  it('asks the store to list by path and tags', () => {
    expect(listQueryOf({ path: 'meltano/', tags: { team: 'data' }, name: { regexp: 'x' } })).toEqual({
      prefix: 'meltano/',
      tags: { team: 'data' },
    });
    expect(listQueryOf({ name: { regexp: 'x' } })).toEqual({});
  });

  // The listing runs with a shared identity: it must not walk what the namespace was not granted, whatever
  // path the tenant writes.
  it('lists through a ClusterSecretStore only within the grant, starting at the longer of path and grant', () => {
    const scope = {
      kind: 'listed',
      names: ['shared/warehouse', 'meltano/tap/password'],
      prefixes: ['meltano/', 'meltano/tap/', 'team-a'],
    } as const;
    const prefixes = (find: object) => listQueriesOf(find, scope).map((query) => query.prefix);
    expect(prefixes({})).toEqual(['meltano/', 'shared/warehouse', 'team-a']);
    expect(prefixes({ path: '' })).toEqual(['meltano/', 'shared/warehouse', 'team-a']);
    expect(prefixes({ path: 'meltano/tap/x' })).toEqual(['meltano/tap/x']);
    expect(prefixes({ path: 'team-a-evil/' })).toEqual(['team-a-evil/']);
    expect(prefixes({ path: 'shared/' })).toEqual(['shared/warehouse']);
    expect(prefixes({ path: 'platform/' })).toEqual([]);
    expect(prefixes({ path: 'team-' })).toEqual(['team-a']);
    expect(listQueriesOf({ path: 'm', tags: { team: 'data' } }, scope)).toEqual([
      { prefix: 'meltano/', tags: { team: 'data' } },
    ]);
    expect(listQueriesOf({ path: 'platform/' }, { kind: 'any' })).toEqual([{ prefix: 'platform/' }]);
  });
});
