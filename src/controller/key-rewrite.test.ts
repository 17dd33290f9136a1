// The dataFrom key rewrite as a table: what each step makes of a key, and which patterns are refused before
// they run (the ones that could backtrack for a long time, and the ones that do not compile).
import { describe, expect, it } from 'vitest';
import type { KeyRewrite } from '../api/types.ts';
import { InvalidReference } from '../providers/errors.ts';
import { maxInputKeyLength, rewriteKey, unsafePattern } from './key-rewrite.ts';

const toEnv: KeyRewrite[] = [
  { regexp: { source: '[^A-Za-z0-9]+', target: '_' } },
  { case: 'upper' },
  { prefix: 'TAP_POSTGRES_' },
];
const origin = { remote: 'elt/postgres' };

describe('rewriting a dataFrom key', () => {
  it.each<[string, string, KeyRewrite[], string]>([
    ['a space becomes an env var name', 'my key', toEnv, 'TAP_POSTGRES_MY_KEY'],
    ['a path becomes an env var name', 'path/like', toEnv, 'TAP_POSTGRES_PATH_LIKE'],
    ['a run of invalid characters becomes one _', 'db //host', toEnv, 'TAP_POSTGRES_DB_HOST'],
    [
      'every match is replaced, not only the first',
      'a b c',
      [{ regexp: { source: ' ', target: '-' } }],
      'a-b-c',
    ],
    [
      '$1 is a capture group',
      'db/password',
      [{ regexp: { source: '^db/(.*)$', target: 'DB_$1' } }],
      'DB_password',
    ],
    [
      `\${1} is a capture group followed by text`,
      'user',
      [{ regexp: { source: '(.+)', target: `\${1}name` } }],
      'username',
    ],
    ['$$ is a dollar sign', 'cost', [{ regexp: { source: 'cost', target: 'x$$' } }], 'x$'],
    ['an unmatched group is empty', 'ab', [{ regexp: { source: 'a(z)?b', target: '[$1]' } }], '[]'],
    ['a key no pattern matches is kept', 'password', [{ regexp: { source: '/', target: '_' } }], 'password'],
    [
      'a common path is removed',
      'warehouse/loader/user',
      [{ regexp: { source: '^warehouse/loader/', target: '' } }],
      'user',
    ],
    ['lower case', 'DB_USER', [{ case: 'lower' }], 'db_user'],
    [
      'steps run in order on the previous result',
      'k',
      [{ prefix: 'a' }, { regexp: { source: '^a', target: 'b' } }],
      'bk',
    ],
    ['no step keeps the key', 'same', [], 'same'],
    ['"(.*)" matches once, as in Go', 'user', [{ regexp: { source: '(.*)', target: 'TAP_$1' } }], 'TAP_user'],
    ['an empty pattern match between characters', 'ab', [{ regexp: { source: 'x*', target: '-' } }], '-a-b-'],
    [
      'an empty match after a match is skipped, as in Go',
      'abc',
      [{ regexp: { source: 'b*', target: '-' } }],
      '-a-c-',
    ],
  ])('%s: %j', (_what, key, rewrites, expected) => {
    expect(rewriteKey(key, rewrites, origin)).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['a repeated group holding a repetition (a+)+', '(a+)+$', 'exponential time'],
    ['a repeated group holding a star (\\w*)*', '(\\w*)*', 'exponential time'],
    ['a repeated group holding a bounded repetition (a{1,9}){2,}', '(a{1,9}){2,}', 'exponential time'],
    ['a repetition nested two groups deep ((a+))+', '((a+))+', 'exponential time'],
    ['a repeated group holding a repeated group (b|(a)*)+', '(b|(a)*)+', 'exponential time'],
    ['a non-capturing repeated group holding a repetition (?:a+)*', '(?:a+)*', 'exponential time'],
    ['a backreference', '(a)\\1', 'backreferences'],
    ['a named backreference', '(?<x>a)\\k<x>', 'backreferences'],
    ['a pattern that does not compile', '([a-z]', 'not a valid regular expression'],
    ['an empty pattern', '', 'empty'],
    ['a pattern longer than 256 characters', 'a'.repeat(257), 'longer than 256'],
  ])('refuses %s before running it, naming the step and the remote', (_what, source, why) => {
    expect(unsafePattern(source)).toContain(why);
    const rewriting = () =>
      rewriteKey(
        'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!',
        [{ regexp: { source, target: '' } }],
        origin,
      );
    expect(rewriting).toThrow(InvalidReference);
    expect(rewriting).toThrow(
      /dataFrom rewrite 0 of remote secret "elt\/postgres": the regexp source is refused/,
    );
  });

  it.each([
    '[^A-Za-z0-9]+',
    '^db/(.*)$',
    '(ab)+',
    '(a|b)*c',
    'x{2,3}',
    '(?:ab)+',
    '([+*])+',
    '(\\(a)+',
    '(a)(b+)',
  ])('accepts the pattern %j', (source) => {
    expect(unsafePattern(source)).toBeUndefined();
  });

  it('refuses to rewrite a key longer than a rewrite reads, naming it cut short', () => {
    const long = 'k'.repeat(maxInputKeyLength + 1);
    expect(() => rewriteKey(long, toEnv, origin)).toThrow(`longer than ${maxInputKeyLength} characters`);
    expect(() => rewriteKey(long, toEnv, origin)).toThrow(`"${'k'.repeat(64)}…"`);
  });
});
