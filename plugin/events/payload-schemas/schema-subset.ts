/**
 * Checks a host's data schema (`customEventTypes[].schema`) against the supported subset of
 * JSON Schema (data-schema.ts), and a value (the type's `example`) against a schema. Both run
 * once, at start-up, so a typo in a schema fails there, naming the path, rather than as
 * fields silently dropped from every event.
 *
 * Supported keywords: type (object, array, string, number, integer, boolean, null, or a list
 * of them), properties, required, items, enum, format, minLength, maxLength, description,
 * title, additionalProperties (false only: undeclared fields never leave the host, whether it
 * is written or not), and `{ "$ref": "#/$defs/<Part>" }` naming a shared part
 * (schema-parts.ts), `#/$defs/User` marking a user. Nothing else: no oneOf, no patterns, no
 * own $defs, because the shaper and every receiver must read a schema the same way.
 */
import { credentialKindOf } from './credential-values.js';
import { JSON_TYPES, isDateTime, jsonTypeOf, partNameOf, typeAllows, typesOf, type DataSchema, type JsonType } from './data-schema.js';
import { isPartName, PAYLOAD_PARTS } from './schema-parts.js';

const KEYWORDS = new Set([
  'type', 'properties', 'required', 'items', 'enum', 'format', 'minLength', 'maxLength', 'description', 'title', 'additionalProperties', '$ref',
]);
const MAX_DEPTH = 16;

/** A schema outside the supported subset; the message names the path and why. */
export class UnsupportedSchemaError extends Error {
  constructor(path: string, why: string) {
    super(`schema at ${path}: ${why}`);
    this.name = 'UnsupportedSchemaError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Returns a normalised copy of a host schema: every object node gets
 * `additionalProperties: false` (what the shaper does anyway, now said to receivers too).
 * @throws {UnsupportedSchemaError} naming the first unsupported place.
 */
export function normalizeHostSchema(input: unknown): DataSchema {
  if (!isRecord(input)) throw new UnsupportedSchemaError('data', 'must be a JSON Schema object');
  const types = input.type === undefined ? undefined : Array.isArray(input.type) ? input.type : [input.type];
  if (!types || types.length !== 1 || types[0] !== 'object') {
    throw new UnsupportedSchemaError('data', 'must have type "object": event data is an object');
  }
  return normalize(input, 'data', 0);
}

function normalize(node: unknown, path: string, depth: number): DataSchema {
  const fail = (why: string): never => {
    throw new UnsupportedSchemaError(path, why);
  };
  if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
  if (!isRecord(node)) fail('must be an object');
  const schema = node as Record<string, unknown>;
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key)) fail(`keyword "${key}" is not supported (supported: ${[...KEYWORDS].join(', ')})`);
  }
  for (const key of ['description', 'title', 'format'] as const) {
    if (schema[key] !== undefined && typeof schema[key] !== 'string') fail(`${key} must be a string`);
  }
  if (schema.$ref !== undefined) {
    const extra = Object.keys(schema).filter((k) => k !== '$ref' && k !== 'description' && k !== 'title');
    if (extra.length) fail(`$ref cannot be combined with ${extra.join(', ')}`);
    const name = typeof schema.$ref === 'string' ? partNameOf(schema.$ref) : undefined;
    if (name === undefined || !isPartName(name)) {
      fail(`$ref must be "#/$defs/<Part>" with Part one of ${Object.keys(PAYLOAD_PARTS).join(', ')}`);
    }
    return { ...schema } as DataSchema;
  }

  if (schema.type === undefined) fail('needs a type');
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as unknown[];
  if (types.length === 0 || !types.every((t) => typeof t === 'string' && (JSON_TYPES as readonly string[]).includes(t))) {
    fail(`type must be one of ${JSON_TYPES.join(', ')} (or a list of them)`);
  }
  if (new Set(types).size !== types.length) fail('type lists a type twice');
  const has = (t: JsonType) => types.includes(t);
  const out: Record<string, unknown> = { ...schema };

  if (schema.properties !== undefined || schema.required !== undefined || schema.additionalProperties !== undefined) {
    if (!has('object')) fail('properties, required and additionalProperties need type "object"');
  }
  if (has('object')) {
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
      fail('additionalProperties must be false (or left out): fields a schema does not declare never leave the host');
    }
    const properties = schema.properties ?? {};
    if (!isRecord(properties)) fail('properties must be an object');
    out.properties = Object.fromEntries(Object.entries(properties as Record<string, unknown>)
      .map(([name, child]) => [name, normalize(child, `${path}.${name}`, depth + 1)]));
    if (schema.required !== undefined) {
      const required = schema.required;
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) fail('required must be a list of property names');
      const missing = (required as string[]).filter((r) => !Object.prototype.hasOwnProperty.call(properties, r));
      if (missing.length) fail(`required names undeclared properties: ${missing.join(', ')}`);
      if (new Set(required as string[]).size !== (required as string[]).length) fail('required names a property twice');
    }
    out.additionalProperties = false;
  }
  if (schema.items !== undefined && !has('array')) fail('items needs type "array"');
  if (has('array')) {
    if (schema.items === undefined) fail('an array needs items (the schema of its elements)');
    out.items = normalize(schema.items, `${path}[]`, depth + 1);
  }
  for (const key of ['minLength', 'maxLength'] as const) {
    if (schema[key] === undefined) continue;
    if (!has('string')) fail(`${key} needs type "string"`);
    if (!Number.isInteger(schema[key]) || (schema[key] as number) < 0) fail(`${key} must be a non-negative integer`);
  }
  if (schema.enum !== undefined) {
    const values = schema.enum;
    if (!Array.isArray(values) || values.length === 0) fail('enum must be a non-empty list');
    for (const value of values as unknown[]) {
      const t = jsonTypeOf(value);
      if (t === undefined || t === 'object' || t === 'array') fail('enum values must be strings, numbers, booleans or null');
      if (!typeAllows(schema as DataSchema, t!)) fail(`enum value ${JSON.stringify(value)} is not of the declared type`);
    }
  }
  return out as DataSchema;
}

/**
 * Why `value` does not match `schema` (empty when it does), one `path: message` per problem.
 * Undeclared properties count as problems, as they would be dropped. `$ref`s resolve against
 * the shared parts. Credential-shaped strings count too: they would never be sent.
 */
export function schemaErrors(value: unknown, schema: DataSchema, path = 'data'): string[] {
  if (schema.$ref !== undefined) {
    const name = partNameOf(schema.$ref);
    return name !== undefined && isPartName(name) ? schemaErrors(value, PAYLOAD_PARTS[name], path) : [`${path}: unknown $ref ${schema.$ref}`];
  }
  const actual = jsonTypeOf(value);
  if (actual === undefined) return [`${path}: not a JSON value`];
  if (!typeAllows(schema, actual)) return [`${path}: must be ${typesOf(schema)!.join(' or ')}, is ${actual}`];
  const errors: string[] = [];
  if (schema.enum && !schema.enum.includes(value as never)) errors.push(`${path}: must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.format === 'date-time' && !isDateTime(value)) errors.push(`${path}: not an RFC 3339 date-time`);
    const kind = credentialKindOf(value);
    if (kind) errors.push(`${path}: looks like a credential (${kind}) and would never be sent`);
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errors.push(...schemaErrors(item, schema.items!, `${path}[${i}]`)));
  } else if (actual === 'object' && schema.properties) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (record[name] === undefined) errors.push(`${path}.${name}: required`);
    for (const [name, child] of Object.entries(record)) {
      const declared = schema.properties[name];
      if (!declared) errors.push(`${path}.${name}: not declared in the schema`);
      else if (child !== undefined) errors.push(...schemaErrors(child, declared, `${path}.${name}`));
    }
  }
  return errors;
}
