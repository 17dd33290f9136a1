// The fields of the API types as the TypeScript compiler sees them in src/api/types.ts, read through the
// compiler's own API, so a test can hold them against crds/ without a hand-written copy of either. The API is
// the compiler's `unstable/sync` entry point: the lockfile pins the compiler, and a change to that API breaks
// this test loudly rather than letting the two sources drift quietly.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  API,
  type Checker,
  SymbolFlags,
  type Type,
  TypeFlags,
  type TypeReference,
} from 'typescript/unstable/sync';

export type Presence = 'required' | 'optional';
export type ScalarType = 'string' | 'number' | 'boolean';

/** One field: whether it may be left out, what it holds, and for an object the shape of that object. */
export interface FieldShape {
  presence: Presence;
  /** For a list, the type of its items. */
  type: ScalarType | 'object';
  list: boolean;
  /** Set when the field allows only some literal values (`'upper' | 'lower'`, `1 | 2`). */
  values?: (string | number)[];
  /** Set for an object with named fields; a map (`Record<string, string>`) has none. */
  shape?: ShapeData;
}

export interface ShapeData {
  fields: Record<string, FieldShape>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const typesFile = path.join(root, 'src/api/types.ts');

/** Fields the API machinery owns and validates itself; the CRD schemas leave them opaque. */
const opaqueRootFields = new Set(['metadata']);

/** Reads the shape of each named type exported by src/api/types.ts. */
export function readDeclaredShapes(typeNames: readonly string[]): Record<string, ShapeData> {
  const api = new API({ cwd: root });
  try {
    const project = api.updateSnapshot({ openProject: path.join(root, 'tsconfig.json') }).getProjects()[0];
    if (!project) throw new Error('the TypeScript project in tsconfig.json did not load');
    const { checker, program } = project;
    const file = program.getSourceFile(typesFile);
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (!moduleSymbol) throw new Error(`${typesFile} is not part of the TypeScript project`);
    const exported = new Map(checker.getExportsOfModule(moduleSymbol).map((symbol) => [symbol.name, symbol]));
    const shapes: Record<string, ShapeData> = {};
    for (const name of typeNames) {
      const symbol = exported.get(name);
      if (!symbol) throw new Error(`types.ts exports no type named ${name}`);
      shapes[name] = shapeOf(checker, checker.getDeclaredTypeOfSymbol(symbol), true);
    }
    return shapes;
  } finally {
    api.close();
  }
}

function shapeOf(checker: Checker, type: Type, isRoot = false): ShapeData {
  const fields: Record<string, FieldShape> = {};
  for (const property of checker.getPropertiesOfType(type)) {
    const declared = checker.getTypeOfSymbol(property);
    if (!declared) throw new Error(`the compiler gave no type for field ${property.name}`);
    const presence: Presence = (property.flags & SymbolFlags.Optional) !== 0 ? 'optional' : 'required';
    const value = checker.getNonNullableType(declared) ?? declared;
    const list = checker.isArrayType(value);
    const item = list ? checker.getTypeArguments(value as TypeReference)[0]! : value;
    const field: FieldShape = { presence, list, ...describe(item) };
    if (field.type === 'object' && !(isRoot && opaqueRootFields.has(property.name))) {
      const nested = shapeOf(checker, item);
      if (Object.keys(nested.fields).length > 0) field.shape = nested;
    }
    fields[property.name] = field;
  }
  return { fields };
}

function describe(type: Type): Pick<FieldShape, 'type' | 'values'> {
  if (type.flags & (TypeFlags.Boolean | TypeFlags.BooleanLiteral)) return { type: 'boolean' };
  if (type.flags & TypeFlags.String) return { type: 'string' };
  if (type.flags & TypeFlags.Number) return { type: 'number' };
  const literals = type.isUnionType() ? (type.getTypes() ?? []) : [type];
  if (literals.every((literal) => literal.isLiteralType())) {
    const values = literals.map((literal) => (literal as { value: string | number }).value);
    return { type: typeof values[0] === 'number' ? 'number' : 'string', values };
  }
  return { type: 'object' };
}
