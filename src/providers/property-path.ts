// The property path of data[].remote.property: names joined by dots, where `\.` is a dot inside a name and
// `\\` a backslash. The CRD's CEL rule accepts exactly the paths parsePropertyPath accepts.

/** The names of `path`, escapes removed; undefined for a malformed path (empty name, stray backslash). */
export function parsePropertyPath(path: string): string[] | undefined {
  const names: string[] = [];
  let current = '';
  for (let index = 0; index < path.length; index += 1) {
    const char = path[index]!;
    if (char === '\\') {
      const next = path[index + 1];
      if (next !== '.' && next !== '\\') return undefined;
      current += next;
      index += 1;
    } else if (char === '.') {
      if (current === '') return undefined;
      names.push(current);
      current = '';
    } else if (/[\t\n\f\r ]/.test(char)) {
      return undefined;
    } else {
      current += char;
    }
  }
  if (current === '') return undefined;
  names.push(current);
  return names;
}
