/**
 * An example value made from a schema, for host types registered with a schema but no
 * `example`: GET /event-types and the OpenAPI document show one example per type, and a
 * made-up one that validates is more use to a receiver than none.
 */
import { partNameOf, typesOf, type DataSchema, type JsonScalar } from './data-schema.js';
import { isPartName, PAYLOAD_PARTS } from './schema-parts.js';

const EXAMPLE_TIME = '2026-01-15T09:30:00.000Z';

function exampleString(schema: DataSchema): string {
  const base = schema.format === 'date-time' ? EXAMPLE_TIME
    : schema.format === 'email' ? 'user@example.com'
      : schema.format === 'uri' ? 'https://example.com/'
        : 'example';
  if (schema.minLength !== undefined && base.length < schema.minLength) return base.padEnd(schema.minLength, 'x');
  if (schema.maxLength !== undefined && base.length > schema.maxLength) return 'x'.repeat(schema.maxLength);
  return base;
}

/** A value that validates against `schema` (every declared property filled in). */
export function exampleFromSchema(schema: DataSchema, depth = 0): unknown {
  if (schema.$ref !== undefined) {
    const name = partNameOf(schema.$ref);
    return name !== undefined && isPartName(name) && depth < 8 ? exampleFromSchema(PAYLOAD_PARTS[name], depth + 1) : null;
  }
  if (schema.enum?.length) return schema.enum[0] as JsonScalar;
  const type = typesOf(schema)?.find((t) => t !== 'null') ?? typesOf(schema)?.[0];
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, child]) => [name, exampleFromSchema(child, depth + 1)]));
    case 'array':
      return schema.items && depth < 8 ? [exampleFromSchema(schema.items, depth + 1)] : [];
    case 'string': return exampleString(schema);
    case 'integer': return 1;
    case 'number': return 1.5;
    case 'boolean': return true;
    default: return null;
  }
}
