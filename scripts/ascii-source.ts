// Rewrites JavaScript source so that it holds ASCII only, with the same meaning. V8 keeps the text of every
// loaded script for as long as its functions may still be compiled, and a script with a single character
// beyond Latin-1 is held two bytes per character. esbuild escapes such characters in strings, templates and
// identifiers but leaves them in regular expression literals and comments (a few bundled packages have
// them), and the bundle's largest chunk was held at twice its size for it.
//
// Every character above U+007F becomes a \uXXXX escape; one beyond the Basic Multilingual Plane becomes its
// two surrogates, which strings and regular expressions (with or without the u flag) read back as the one
// character. A character written with an identity escape (`\é` in a regular expression or a string) means the
// character itself, so it becomes the bare escape. Left as they are: U+2028 and U+2029, which end a line in a
// comment and continue one after a backslash in a string, where an escape would mean something else.
// Where an escape is not allowed at all (an identifier beyond the Basic Multilingual Plane, non-ASCII white
// space between tokens), the result does not parse: scripts/build.ts parses what it writes and stops there.
// The one context where the rewrite would change a value silently is a tagged template's raw text
// (String.raw`é`); in the bundle of today the only non-ASCII characters are in two regular expressions.

/** `source` with every non-ASCII character but U+2028 and U+2029 written as a \u escape. */
export function asciiSource(source: string): string {
  return source.replace(
    /(\\*)([\u0080-\u2027\u202a-\uffff])/g,
    (_match, backslashes: string, character: string) => {
      const escaped = character.charCodeAt(0).toString(16).padStart(4, '0');
      // An odd run of backslashes escapes the character itself: drop that last one, the \u escape replaces it.
      const kept = backslashes.length % 2 === 1 ? backslashes.slice(1) : backslashes;
      return `${kept}\\u${escaped}`;
    },
  );
}
