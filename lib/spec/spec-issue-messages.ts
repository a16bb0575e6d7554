import { z } from 'zod';
import { closestName } from './closest-name';

type Path = readonly PropertyKey[];

/**
 * One message per zod issue of a parsed document, each starting with the field's
 * dotted path. An unknown field also names the field it most likely meant, found by
 * edit distance among the fields the schema knows at that place:
 * @example "gates.minimum: unknown field; did you mean 'minimums'?"
 * @example "schema.columns.1.colour: unknown field (known: name, type, nullable, min, max, allowNonFinite)"
 */
export function specIssueMessages(schema: z.ZodType, input: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [`${formatPath(issue.path)}: ${issue.message}`];
    const known = knownFields(schema, input, issue.path) ?? [];
    return issue.keys.map((key) => {
      const field = formatPath([...issue.path, key]);
      const meant = closestName(key, known);
      if (meant) return `${field}: unknown field; did you mean '${meant}'?`;
      return known.length > 0 ? `${field}: unknown field (known: ${known.join(', ')})` : `${field}: unknown field`;
    });
  });
}

/**
 * Paths of the fields zod refused as unknown (`unrecognized_keys`), each as the path of
 * the object plus the key.
 */
export function unknownFieldPaths(issues: readonly z.core.$ZodIssue[]): PropertyKey[][] {
  return issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : []));
}

/**
 * The field names the schema accepts in the object at `path` of `input`: an object's
 * keys, or an enum-keyed record's keys (e.g. the metrics of `gates.minimums`).
 * Discriminated unions are resolved with the input's discriminator value.
 */
export function knownFields(schema: z.ZodType, input: unknown, path: Path): string[] | undefined {
  const target = schemaAt(schema, input, path);
  if (target instanceof z.ZodObject) return Object.keys(target.shape);
  if (target instanceof z.ZodRecord && target.keyType instanceof z.ZodEnum) return target.keyType.options.map(String);
  return undefined;
}

/** The schema that validates the value at `path` of `input`. */
function schemaAt(schema: z.ZodType, input: unknown, path: Path): z.ZodType | undefined {
  let current: z.ZodType | undefined = resolve(schema, input);
  let value = input;
  for (const key of path) {
    if (current instanceof z.ZodObject && typeof key === 'string') current = (current.shape as Record<string, z.ZodType>)[key];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return undefined;
    value = isObject(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    current = current && resolve(current, value);
  }
  return current;
}

/** Looks through defaults, optionals, nullables and pipes, and picks a discriminated union's option for `value`. */
function resolve(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else if (current instanceof z.ZodDiscriminatedUnion) {
      const discriminator = current._zod.def.discriminator;
      const tag = isObject(value) ? (value as Record<string, unknown>)[discriminator] : undefined;
      const option = (current.options as z.ZodType[]).find(
        (o) => o instanceof z.ZodObject && (o.shape as Record<string, z.ZodType>)[discriminator]?.safeParse(tag).success,
      );
      if (!option) return undefined;
      current = option;
    } else {
      return current;
    }
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function formatPath(path: Path): string {
  return path.map(String).join('.') || '(root)';
}
