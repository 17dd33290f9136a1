// Rewrites JavaScript source so that it holds ASCII only, with the same meaning. V8 keeps the text of every
// loaded script for as long as its functions may still be compiled, and a script with a single character
// beyond Latin-1 is held two bytes per character. esbuild escapes such characters in strings, templates and
// identifiers but leaves them in regular expression literals and comments (a few bundled packages have
// them), and the bundle's largest chunk was held at twice its size for it.
//
// Every character above U+007F becomes a \uXXXX escape (a character beyond the Basic Multilingual Plane
// becomes its two surrogates, which regular expressions, with or without the u flag, strings and identifiers
// all read back as the one character). A character written with an identity escape (`\é` in a
// regular expression or a string) means the character itself, so it becomes the bare escape.

/** `source` with every non-ASCII character written as a \u escape. */
export function asciiSource(source: string): string {
  return source.replace(/(\\*)([\u0080-\uffff])/g, (_match, backslashes: string, character: string) => {
    const escaped = character.charCodeAt(0).toString(16).padStart(4, '0');
    // An odd run of backslashes escapes the character itself: drop that last one, the \u escape replaces it.
    const kept = backslashes.length % 2 === 1 ? backslashes.slice(1) : backslashes;
    return `${kept}\\u${escaped}`;
  });
}
