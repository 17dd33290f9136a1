// Rewrites the keys of one dataFrom entry, in order, so a store's names ("my key", "db/password") become the
// names a Secret and a tool accept (TAP_POSTGRES_MY_KEY). Runs on keys only, never on values.
//
// JavaScript has no regular expression with a time limit, so the cost of a pattern is bounded instead: a
// pattern is at most maxPatternLength characters, a key at most maxInputKeyLength, and a pattern where a
// quantified group itself holds a quantifier ("(a+)+", "(\w*)*") or a backreference is refused, because those
// are the shapes that backtrack exponentially. The API server refuses the common form of these shapes at apply
// time with a regular expression (CEL cannot count nesting, so its rule is simpler and in places stricter,
// e.g. it refuses "([+*])+"); this check is exact, covers objects written before the rule, and is the one the
// operator relies on.
import type { KeyRewrite } from '../api/types.ts';
import { InvalidReference } from '../providers/errors.ts';
import { quoteKey } from './secret-keys.ts';

export const maxPatternLength = 256;
export const maxInputKeyLength = 1024;
export const maxRewrites = 8;

/** Why `source` is refused as a rewrite pattern, or undefined when it may be used. */
export function unsafePattern(source: string): string | undefined {
  if (source.length === 0) return 'it is empty';
  if (source.length > maxPatternLength) return `it is longer than ${maxPatternLength} characters`;
  if (repeatsRepetition(source))
    return 'a repeated group may not itself hold a repetition (e.g. "(a+)+"): such patterns can take exponential time';
  if (backreference.test(source)) return 'backreferences (\\1, \\k<name>) are not supported';
  try {
    new RegExp(source, 'g');
  } catch {
    return 'it is not a valid regular expression';
  }
  return undefined;
}

const backreference = /\\[1-9]|\\k</;

/**
 * A group, however
 * deeply nested ("((a+))+", "(b|(a)*)+"), that holds a repetition and is itself repeated. Escapes and
 * character classes are skipped, so "[+]" or "\\(" are not mistaken for structure.
 */
function repeatsRepetition(source: string): boolean {
  const quantifier = /[*+?{]/;
  const open: boolean[] = []; // per open group: does it hold a repetition so far?
  let inClass = false;
  for (let index = 0; index < source.length; index++) {
    const char = source[index]!;
    if (char === '\\') {
      index++;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') open.push(false);
    else if (char === ')') {
      const held = open.pop() ?? false;
      const next = source[index + 1] ?? '';
      if (held && quantifier.test(next)) return true;
      // The group is part of its parent: repeated or not, the parent now holds what it held.
      if (open.length > 0 && (held || quantifier.test(next))) open[open.length - 1] = true;
    } else if (quantifier.test(char) && open.length > 0) {
      // "(?:", "(?<name>" and "(?=" start with "?" right after "(", which is not a repetition.
      if (!(char === '?' && source[index - 1] === '(')) open[open.length - 1] = true;
    }
  }
  return false;
}

/** Expands `$1`, `${1}` (capture groups) and `$$` (a dollar) in `target`; any other `$` is kept as written. */
function expand(target: string, groups: readonly (string | undefined)[]): string {
  return target.replace(/\$(\$|\{(\d+)\}|(\d+))/g, (whole, _all, braced, bare) => {
    if (whole === '$$') return '$';
    const index = Number(braced ?? bare);
    return groups[index] ?? '';
  });
}

/**
 * Every match of `pattern` in `key` replaced by `target` expanded, as Go's Regexp.ReplaceAllString does it
 * (External Secrets Operator's engine): an empty match right after a match is skipped, so "(.*)" on "abc" is
 * one match, where String.replace would add a second, empty one at the end.
 */
function replaceAll(key: string, pattern: RegExp, target: string): string {
  let out = '';
  let copied = 0;
  let previousEnd = -1;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(key); match !== null; match = pattern.exec(key)) {
    const start = match.index;
    const end = start + match[0].length;
    if (match[0].length === 0) {
      pattern.lastIndex = end + 1;
      if (start === previousEnd) continue;
    }
    out += key.slice(copied, start) + expand(target, match);
    copied = end;
    previousEnd = end;
    if (end > key.length) break;
  }
  return out + key.slice(copied);
}

export interface RewriteOrigin {
  /** The remote secret the keys came from, for messages. */
  remote: string;
}

/**
 * Applies `rewrites` in order to one key. Throws InvalidReference (naming the key, never a value) when a
 * pattern is refused or the key is longer than a rewrite may read.
 */
export function rewriteKey(key: string, rewrites: readonly KeyRewrite[], origin: RewriteOrigin): string {
  let current = key;
  rewrites.forEach((rewrite, index) => {
    const where = `dataFrom rewrite ${index} of remote secret "${origin.remote}"`;
    if (current.length > maxInputKeyLength) {
      throw new InvalidReference(
        `${where}: the key ${quoteKey(current)} is longer than ${maxInputKeyLength} characters, the most a rewrite reads`,
        { remote: origin.remote },
      );
    }
    if (rewrite.regexp) {
      const refused = unsafePattern(rewrite.regexp.source);
      if (refused) {
        throw new InvalidReference(`${where}: the regexp source is refused: ${refused}`, {
          remote: origin.remote,
        });
      }
      current = replaceAll(current, new RegExp(rewrite.regexp.source, 'g'), rewrite.regexp.target);
    } else if (rewrite.prefix !== undefined) {
      current = rewrite.prefix + current;
    } else if (rewrite.case === 'upper') {
      current = current.toUpperCase();
    } else if (rewrite.case === 'lower') {
      current = current.toLowerCase();
    }
  });
  return current;
}
