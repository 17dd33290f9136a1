import { describe, expect, it } from 'vitest';
import { parseDocuments, renderDocuments } from './yaml-io.ts';

describe('reading and writing multi-document YAML', () => {
  it('skips empty and comment-only documents and keeps content after a document marker', () => {
    const docs = parseDocuments(
      '---\n# header\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---   \n--- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n...\n',
    );
    expect(docs).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
    ]);
  });

  it('keeps a block scalar that contains a document marker indented', () => {
    const [doc] = parseDocuments('kind: X\nbody: |\n  ---\n  text\n');
    expect(doc).toEqual({ kind: 'X', body: '---\ntext\n' });
  });

  it('marks the consumers placeholder with a comment and round-trips the rest', () => {
    const manifest = {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'dbt' },
      spec: {
        storeRef: { name: 's' },
        data: [{ key: 'on', remote: { name: 'yes', version: '3' } }],
        consumers: {},
      },
    };
    const text = renderDocuments([manifest, manifest]);
    expect(text).toMatch(
      / {2}# FILL IN: which Jobs may use this Secret[^\n]*\n {2}# [^\n]*\n {2}consumers: \{\}\n/,
    );
    expect(parseDocuments(text)).toEqual([manifest, manifest]);
  });
});
