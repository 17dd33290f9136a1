// dataFrom find against each provider's real server: listing by path, name and tags, the cap, the namespace's
// remoteAccess, and a secret that appears between two look-ups. Called from runConformance.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { AnySecretStore, KeyRewrite, RemoteFind, SecretReference } from '../../src/api/types.ts';
import type { RemoteScope } from '../../src/controller/remote-access.ts';
import { createStoreValues } from '../../src/controller/store-values.ts';
import { InvalidReference, LimitExceeded, RemoteNotAllowed } from '../../src/providers/errors.ts';
import { providerCallCount } from '../../src/providers/metrics.ts';
import { StoreClients } from '../../src/providers/store-clients.ts';
import type { ConformanceFixture, ConformanceSupport } from './fixture.ts';

export function findCases(
  fixture: () => ConformanceFixture,
  supports: ConformanceSupport,
  opened: StoreClients[],
) {
  /** A lowercase id valid as a name in every store and as a GCP label value. */
  const unique = (what: string) => `conf-${what}-${randomBytes(4).toString('hex')}`;
  /** How the store hands back a whole value put as plain text: Vault keeps it as {"value": ...}. */
  const whole = (text: string) => (supports.binary ? text : JSON.stringify({ value: text }));

  function values() {
    const clients = new StoreClients({
      credentials: fixture().credentials,
      tuning: { cacheTtlMs: 0, floatingCacheTtlMs: 0, timeoutMs: 5_000 },
    });
    opened.push(clients);
    return createStoreValues(clients);
  }

  function reference(find: RemoteFind, rewrite?: KeyRewrite[]): SecretReference {
    return {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'find', namespace: 'conformance' },
      spec: {
        storeRef: { name: 'conformance' },
        dataFrom: [{ find, ...(rewrite ? { rewrite } : {}) }],
        consumers: { matchLabels: { app: 'conformance' } },
      },
    };
  }

  async function found(find: RemoteFind, options: { rewrite?: KeyRewrite[]; scope?: RemoteScope } = {}) {
    const read = await values().read(
      fixture().store() as AnySecretStore,
      reference(find, options.rewrite),
      options.scope ?? { kind: 'any' },
      AbortSignal.timeout(10_000),
    );
    return {
      data: Object.fromEntries(Object.entries(read.data).map(([key, value]) => [key, value.toString()])),
      remoteVersions: read.remoteVersions,
    };
  }

  const versions = (find: RemoteFind) =>
    values().versions(
      fixture().store() as AnySecretStore,
      reference(find),
      { kind: 'any' },
      AbortSignal.timeout(10_000),
    );

  it('finds secrets by path and name, each whole under its name, and finds a new one at the next look-up', async () => {
    const base = unique('find');
    const alpha = await fixture().put(`${base}-alpha`, 'one');
    await fixture().put(`${base}-beta`, 'two');
    await fixture().put(`${base}-other`, 'three');
    const find = { path: `${base}-`, name: { regexp: '(alpha|beta)$' } };
    const rewrite = [{ regexp: { source: `^${base}-`, target: '' } }];
    const first = await found(find, { rewrite });
    expect(first.data).toEqual({ alpha: whole('one'), beta: whole('two') });
    expect(first.remoteVersions[`${base}-alpha`]).toBe(alpha.versionId);
    expect(Object.keys(first.remoteVersions).sort()).toEqual([`${base}-alpha`, `${base}-beta`]);

    expect(Object.keys(await versions(find)).sort()).toEqual([`${base}-alpha`, `${base}-beta`]);
    await fixture().put(`${base}-gamma-beta`, 'four');
    expect(Object.keys(await versions(find)).sort()).toEqual([
      `${base}-alpha`,
      `${base}-beta`,
      `${base}-gamma-beta`,
    ]);
  });

  it('refuses more matches than maxSecrets with the count, reading no value', async () => {
    const base = unique('cap');
    for (const suffix of ['a', 'b', 'c']) await fixture().put(`${base}-${suffix}`, suffix);
    const reads = async () =>
      (await providerCallCount(fixture().provider, 'get')) +
      (await providerCallCount(fixture().provider, 'batchGet'));
    const before = await reads();
    const attempt = found({ path: `${base}-`, maxSecrets: 2 });
    await expect(attempt).rejects.toBeInstanceOf(LimitExceeded);
    await expect(attempt).rejects.toThrow('matches 3 remote secrets and maxSecrets is 2: nothing was read');
    expect(await reads()).toBe(before);
  });

  it('reads only the found secrets within the namespace’s remoteAccess, and none of the others', async () => {
    const base = unique('scope');
    await fixture().put(`${base}-granted`, 'granted');
    await fixture().put(`${base}-withheld`, 'withheld');
    const before = await providerCallCount(fixture().provider, 'get');
    const { data } = await found(
      { path: `${base}-` },
      { scope: { kind: 'listed', names: [], prefixes: [`${base}-granted`] } },
    );
    expect(data).toEqual({ [`${base}-granted`]: whole('granted') });
    // One secret read, however the store batches: the withheld one was listed, never read.
    expect((await providerCallCount(fixture().provider, 'get')) - before).toBeLessThanOrEqual(1);
    await expect(found({ path: `${base}-` }, { scope: { kind: 'names-only' } })).rejects.toBeInstanceOf(
      RemoteNotAllowed,
    );
  });

  if (supports.tags) {
    it('finds secrets by tags (AWS) or labels (GCP), every one with its exact value', async () => {
      const base = unique('tags');
      const team = `t${randomBytes(4).toString('hex')}`;
      await fixture().put(`${base}-gold`, 'gold', { tags: { team, tier: 'gold' } });
      await fixture().put(`${base}-goldish`, 'goldish', { tags: { team, tier: 'gold-plated' } });
      await fixture().put(`${base}-silver`, 'silver', { tags: { team, tier: 'silver' } });
      const { data } = await found({ tags: { team, tier: 'gold' } });
      expect(data).toEqual({ [`${base}-gold`]: 'gold' });
      expect(Object.keys((await found({ tags: { team } })).data).sort()).toEqual([
        `${base}-gold`,
        `${base}-goldish`,
        `${base}-silver`,
      ]);
    });
  } else {
    it('refuses find by tags on a store that keeps none, saying so', async () => {
      const attempt = found({ tags: { team: 'data' } });
      await expect(attempt).rejects.toBeInstanceOf(InvalidReference);
      await expect(attempt).rejects.toThrow('keeps no tags');
    });
  }

  if (supports.folders) {
    it('finds every secret under a folder, nested ones too, rewritten to TAP_POSTGRES_ env var names', async () => {
      const base = unique('tree');
      await fixture().put(`${base}/tap-postgres/password`, 'pw');
      await fixture().put(`${base}/tap-postgres/ssl/root-cert`, 'cert');
      await fixture().put(`${base}/tap-mysql/password`, 'other');
      const { data } = await found(
        { path: `${base}/tap-postgres/` },
        {
          rewrite: [
            { regexp: { source: `^${base}/tap-postgres/`, target: '' } },
            { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
            { case: 'upper' },
            { prefix: 'TAP_POSTGRES_' },
          ],
        },
      );
      expect(data).toEqual({ TAP_POSTGRES_PASSWORD: whole('pw'), TAP_POSTGRES_SSL_ROOT_CERT: whole('cert') });
      // Without a rewrite, "/" becomes "_" as External Secrets Operator writes it.
      const plain = await found({ path: `${base}/tap-mysql/` });
      expect(Object.keys(plain.data)).toEqual([`${base}_tap-mysql_password`]);
    });

    // The listing runs with the store's shared identity. On Vault it walks folders, and the fixture's identity
    // may list conf-* folders only: a walk into another team's folder would fail, naming that folder.
    it('lists only within the namespace’s remoteAccess, whatever path the find gives', async () => {
      const base = unique('walk');
      await fixture().put(`${base}/granted/password`, 'granted');
      await fixture().put(`withheld-${randomBytes(4).toString('hex')}/root-token`, 'withheld');
      const scope: RemoteScope = { kind: 'listed', names: [], prefixes: [`${base}/granted/`] };
      for (const find of [{ name: { regexp: 'password$' } }, { path: '', name: { regexp: 'password$' } }]) {
        const { data } = await found(find, { scope });
        expect(data).toEqual({ [`${base}_granted_password`]: whole('granted') });
      }
      expect((await found({ path: 'withheld-' }, { scope })).data).toEqual({});
    });
  }
}
