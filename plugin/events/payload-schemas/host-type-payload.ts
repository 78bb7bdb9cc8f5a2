/**
 * The schema and example of a host-registered event type (`customEventTypes[].schema` and
 * `.example`), checked once at start-up: the schema must stay in the supported subset
 * (schema-subset.ts), the example must match it. Both are copied first, so a host that edits
 * its objects later changes nothing here, and freezing them never freezes the host's objects.
 */
import type { CustomEventTypeInput, EventTypeDefinition } from '../catalogue.js';
import { JSON_SCHEMA_DIALECT, type DataSchema } from './data-schema.js';
import { exampleFromSchema } from './schema-example.js';
import { selfContained } from './schema-parts.js';
import { normalizeHostSchema, schemaErrors, UnsupportedSchemaError } from './schema-subset.js';

/**
 * A host type's schema (normalised, self-contained) and example.
 * @param fail throws the catalogue's error for this type, with the reason.
 */
export function hostTypePayload(input: CustomEventTypeInput, fail: (why: string) => never): Pick<EventTypeDefinition, 'schema' | 'example'> {
  const given = input as Partial<CustomEventTypeInput>;
  if (given.schema === undefined) {
    if (given.example !== undefined) fail('example needs a schema to be checked against');
    return { schema: null, example: {} };
  }
  let copy: unknown;
  try {
    // A copy: a host editing its object later must not change what this catalogue enforces.
    copy = structuredClone(given.schema);
  } catch (error) {
    return fail(`schema cannot be copied (${(error as Error).message})`);
  }
  let normalized: DataSchema;
  try {
    normalized = normalizeHostSchema(copy);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) return fail(error.message);
    throw error;
  }
  const schema = selfContained(normalized, JSON_SCHEMA_DIALECT);
  if (given.example === undefined) return { schema, example: exampleFromSchema(schema) as Record<string, unknown> };
  if (given.example === null || typeof given.example !== 'object' || Array.isArray(given.example)) fail('example must be an object (example data)');
  let example: Record<string, unknown>;
  try {
    example = structuredClone(given.example);
  } catch (error) {
    return fail(`example cannot be copied (${(error as Error).message})`);
  }
  const errors = schemaErrors(example, schema);
  if (errors.length) fail(`example does not match its schema: ${errors.join('; ')}`);
  return { schema, example };
}
