/**
 * The JSON Schema (draft 2020-12) subset event data schemas are written in: the built-ins
 * and a host's `customEventTypes[].schema` alike. Small on purpose: it is what the shaper
 * walks (payload-shaper.ts) and what receivers generate types from, and every keyword here
 * means the same to both. Objects never allow undeclared properties: that is the point.
 */

/** JSON types a schema may name. */
export const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
export type JsonType = (typeof JSON_TYPES)[number];
export type JsonScalar = string | number | boolean | null;

export interface DataSchema {
  readonly $schema?: string;
  /** `#/$defs/<Part>`: one of the shared parts (schema-parts.ts); `#/$defs/User` marks a user. */
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, DataSchema>>;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, DataSchema>>;
  readonly required?: readonly string[];
  /** Always false in what the plugin publishes: undeclared fields never leave the host. */
  readonly additionalProperties?: false;
  readonly items?: DataSchema;
  readonly enum?: readonly JsonScalar[];
  /** Annotation, except `date-time`: Date values become ISO strings, other strings must parse. */
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

/** The dialect every published data schema declares. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Prefix of references to shared parts. */
export const DEFS_PREFIX = '#/$defs/';

/** The JSON type of a value as it would be serialised; undefined for what JSON cannot hold. */
export function jsonTypeOf(value: unknown): JsonType | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string': return 'string';
    case 'boolean': return 'boolean';
    case 'number': return Number.isFinite(value) ? (Number.isInteger(value) ? 'integer' : 'number') : undefined;
    case 'object': return 'object';
    default: return undefined;
  }
}

/** The types a schema node allows (none named: any). */
export function typesOf(schema: DataSchema): readonly JsonType[] | undefined {
  if (schema.type === undefined) return undefined;
  return typeof schema.type === 'string' ? [schema.type] : schema.type;
}

/** Whether a value of JSON type `actual` fits `schema`'s type (an integer is a number too). */
export function typeAllows(schema: DataSchema, actual: JsonType): boolean {
  const allowed = typesOf(schema);
  if (!allowed) return true;
  return allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
}

/** RFC 3339 date-time, as `Date.prototype.toISOString()` and receivers' parsers agree on. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function isDateTime(value: string): boolean {
  return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** The part a `$ref` names, or undefined when it is not a reference to a shared part. */
export function partNameOf(ref: string): string | undefined {
  return ref.startsWith(DEFS_PREFIX) ? ref.slice(DEFS_PREFIX.length) : undefined;
}

/** Freezes a schema (or example) and everything in it, so no caller can change a shared table. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
