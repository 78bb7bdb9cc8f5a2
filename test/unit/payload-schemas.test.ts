import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { CatalogueError, EventCatalogue, type CustomEventTypeInput, type EventTypeDefinition } from '../../plugin/events/catalogue.js';
import { JSON_SCHEMA_DIALECT, type DataSchema } from '../../plugin/events/payload-schemas/data-schema.js';
import { envelopeSchemaFor, EVENT_CONTEXT_SCHEMA, exampleEnvelope } from '../../plugin/events/payload-schemas/envelope-schema.js';
import { PAYLOAD_PARTS } from '../../plugin/events/payload-schemas/schema-parts.js';
import { mapUser } from '../../plugin/events/user-mapper.js';

/** Ajv in strict mode with the formats the schemas use, checked the way receivers would. */
function strictAjv() {
  return new Ajv2020.default({
    strict: true,
    allErrors: true,
    formats: {
      'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/,
      email: /^[^@\s]+@[^@\s]+$/,
      uri: (value: string) => URL.canParse(value),
    },
  });
}

function validates(schema: object, value: unknown): string | null {
  const ajv = strictAjv();
  const validate = ajv.compile(schema);
  return validate(value) ? null : ajv.errorsText(validate.errors);
}

/** Every schema node below `schema` that allows an object. */
function* objectNodes(schema: DataSchema, path = 'data'): Generator<[string, DataSchema]> {
  const types = schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type;
  if (types.includes('object')) yield [path, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* objectNodes(child, `${path}.${name}`);
  if (schema.items) yield* objectNodes(schema.items, `${path}[]`);
  for (const [name, def] of Object.entries(schema.$defs ?? {})) yield* objectNodes(def, `$defs.${name}`);
}

const ORDER_TYPE: CustomEventTypeInput = {
  type: 'ORDER_PLACED',
  category: 'SHOP',
  description: 'An order was placed.',
  schema: {
    type: 'object',
    required: ['order'],
    properties: {
      order: {
        type: 'object', required: ['id'],
        properties: {
          id: { type: 'string' }, total: { type: 'number' }, status: { type: 'string', enum: ['new', 'paid'] },
          lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string', maxLength: 32 }, qty: { type: 'integer' } } } },
          placed_at: { type: 'string', format: 'date-time' },
        },
      },
      customer: { $ref: '#/$defs/User', description: 'Who ordered' },
      note: { type: ['string', 'null'] },
    },
  },
  example: { order: { id: 'ord_1', total: 12.5, status: 'paid', lines: [{ sku: 'A-1', qty: 2 }], placed_at: '2026-01-15T09:30:00.000Z' }, note: null },
};

function expectCatalogueError(input: CustomEventTypeInput, message: RegExp): void {
  assert.throws(() => new EventCatalogue([input]), (error: unknown) => {
    assert.ok(error instanceof CatalogueError, `expected a CatalogueError, got ${String(error)}`);
    assert.equal(error.eventType, input.type);
    assert.match(error.message, new RegExp(`"${input.type}"`));
    assert.match(error.message, message);
    return true;
  });
}

describe('payload schemas', () => {
  const builtIns = new EventCatalogue().list();

  describe('built-in types', () => {
    it('give every built-in type a self-contained 2020-12 data schema that Ajv compiles in strict mode', () => {
      assert.equal(builtIns.length, 99); // the 96 of the catalogue table, WEBHOOK_TEST included, and the 3 operational events
      for (const d of builtIns) {
        assert.ok(d.schema, `${d.type} has no schema`);
        assert.equal(d.schema.$schema, JSON_SCHEMA_DIALECT, d.type);
        assert.equal(d.schema.type, 'object', d.type);
        assert.doesNotThrow(() => strictAjv().compile(d.schema!), d.type);
      }
    });

    it('validate every built-in example against its schema', () => {
      for (const d of builtIns) assert.equal(validates(d.schema!, d.example), null, d.type);
    });

    it('validate every example envelope against the envelope schema of its type', () => {
      for (const d of builtIns) {
        const envelope = envelopeSchemaFor(d.type, d.description, d.schema!, EVENT_CONTEXT_SCHEMA);
        assert.equal(validates(envelope, exampleEnvelope(d)), null, d.type);
      }
    });

    it('allow no undeclared property anywhere: every object node says additionalProperties false', () => {
      for (const d of builtIns) {
        for (const [path, node] of objectNodes(d.schema!)) assert.equal(node.additionalProperties, false, `${d.type} ${path}`);
      }
    });

    it('refuse what their examples do not declare, so the schemas are not merely permissive', () => {
      for (const d of builtIns) {
        assert.notEqual(validates(d.schema!, { ...d.example, password: 'x' }), null, d.type);
      }
      const login = builtIns.find((d) => d.type === 'USER_LOGIN')!;
      assert.notEqual(validates(login.schema!, { ...login.example, user: { ...(login.example.user as object), mfa: { key: 'k' } } }), null);
      assert.notEqual(validates(login.schema!, {}), null, 'user is required');
    });

    it('describe the webhook audit events with signature_scheme and public_key, and the test event', () => {
      const created = builtIns.find((d) => d.type === 'WEBHOOK_CREATED')!;
      const webhook = { ...(created.example.webhook as object), url: 'https://crm.example.com/****' };
      for (const extra of [{ signature_scheme: 'ed25519', public_key: 'whpk_OS1cSa2k3OKhwCWNBqcEBsZbOS+6sDVTGAm8mYrnjT4=' }, { public_key: null }]) {
        assert.equal(validates(created.schema!, { webhook: { ...webhook, ...extra } }), null);
      }
      assert.notEqual(validates(created.schema!, { webhook: { ...webhook, signature_scheme: 'md5' } }), null);
      const test = builtIns.find((d) => d.type === 'WEBHOOK_TEST')!;
      assert.deepEqual(Object.keys(test.schema!.properties!), ['message', 'webhook']);
      assert.deepEqual(Object.keys(test.schema!.properties!.webhook!.properties!), ['id', 'name']);
    });

    it('declare User as exactly the fields the allow-list mapper can produce', () => {
      const everything = {
        id: 'u', username: 'u', email: 'e@example.com', emailVerified: true, firstName: 'f', lastName: 'l', displayName: 'd', phone: '1',
        phoneVerified: true, groups: ['g'], roles: ['r'], isAdmin: false, enabled: true, locale: 'en', tenantId: 't',
        createdAt: new Date(), updatedAt: new Date(), lastLoginAt: new Date(),
      };
      assert.deepEqual(Object.keys(mapUser(everything)).sort(), Object.keys(PAYLOAD_PARTS.User.properties!).sort());
    });

    it('are frozen, so no caller can change what another plugin instance enforces', () => {
      const login = new EventCatalogue().get('USER_LOGIN')!;
      assert.ok(Object.isFrozen(login.schema));
      assert.ok(Object.isFrozen(login.schema!.properties));
      assert.ok(Object.isFrozen(PAYLOAD_PARTS.User.properties));
      assert.ok(Object.isFrozen(login.example));
    });
  });

  describe('host types', () => {
    it('accept a schema in the subset, normalised to allow no undeclared property, with the parts it uses', () => {
      const order = new EventCatalogue([ORDER_TYPE]).get('ORDER_PLACED') as EventTypeDefinition;
      assert.equal(order.schema!.$schema, JSON_SCHEMA_DIALECT);
      assert.deepEqual(Object.keys(order.schema!.$defs!), ['User']);
      for (const [path, node] of objectNodes(order.schema!)) assert.equal(node.additionalProperties, false, path);
      assert.equal(validates(order.schema!, order.example), null);
      assert.notEqual(validates(order.schema!, { order: { id: 'o', extra: 1 } }), null);
      const envelope = envelopeSchemaFor(order.type, order.description, order.schema!, EVENT_CONTEXT_SCHEMA);
      assert.equal(validates(envelope, exampleEnvelope(order)), null);
    });

    it('make an example from the schema when the host gives none, and it validates', () => {
      const { example: _ignored, ...withoutExample } = ORDER_TYPE;
      const order = new EventCatalogue([withoutExample]).get('ORDER_PLACED')!;
      assert.equal(validates(order.schema!, order.example), null);
      assert.equal((order.example as any).order.status, 'new');
    });

    it('copy the host schema, so changing it afterwards changes nothing (and the host\'s objects are not frozen)', () => {
      const input = structuredClone(ORDER_TYPE);
      const catalogue = new EventCatalogue([input]);
      (input.schema!.properties as any).secret = { type: 'string' };
      (input.schema!.required as string[]).push('secret');
      (input.example!.order as any).id = 'changed';
      const order = catalogue.get('ORDER_PLACED')!;
      assert.equal(order.schema!.properties!.secret, undefined);
      assert.deepEqual(order.schema!.required, ['order']);
      assert.equal((order.example.order as any).id, 'ord_1');
    });

    const bad = (schema: unknown, example?: unknown): CustomEventTypeInput => ({
      type: 'ORDER_PLACED', description: 'x', schema: schema as Record<string, unknown>, ...(example === undefined ? {} : { example: example as Record<string, unknown> }),
    });
    const cases: Array<[string, CustomEventTypeInput, RegExp]> = [
      ['a root that is not an object schema', bad({ type: 'array', items: { type: 'string' } }), /schema at data: must have type "object"/],
      ['an unsupported keyword, naming its path', bad({ type: 'object', properties: { a: { type: 'string', pattern: '^x' } } }), /schema at data\.a: keyword "pattern" is not supported/],
      ['oneOf', bad({ type: 'object', properties: { a: { oneOf: [{ type: 'string' }] } } }), /data\.a: keyword "oneOf"/],
      ['additionalProperties true', bad({ type: 'object', additionalProperties: true }), /additionalProperties must be false/],
      ['a $ref to something that is no shared part', bad({ type: 'object', properties: { u: { $ref: '#/$defs/Secret' } } }), /data\.u: \$ref must be "#\/\$defs\/<Part>"/],
      ['a $ref beside other keywords', bad({ type: 'object', properties: { u: { $ref: '#/$defs/User', type: 'object' } } }), /\$ref cannot be combined with type/],
      ['own $defs', bad({ type: 'object', $defs: {} }), /keyword "\$defs" is not supported/],
      ['an unknown type', bad({ type: 'object', properties: { a: { type: 'date' } } }), /data\.a: type must be one of/],
      ['a node without a type', bad({ type: 'object', properties: { a: { description: 'x' } } }), /data\.a: needs a type/],
      ['required naming an undeclared property', bad({ type: 'object', properties: {}, required: ['id'] }), /required names undeclared properties: id/],
      ['an array without items', bad({ type: 'object', properties: { a: { type: 'array' } } }), /data\.a: an array needs items/],
      ['maxLength on a number', bad({ type: 'object', properties: { a: { type: 'number', maxLength: 3 } } }), /maxLength needs type "string"/],
      ['an enum value of another type', bad({ type: 'object', properties: { a: { type: 'string', enum: [1] } } }), /enum value 1 is not of the declared type/],
      ['a schema that is no object', bad('object'), /must be a JSON Schema object/],
      ['an example that does not match', bad({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }, { id: 5, extra: true }),
        /example does not match its schema: data\.id: must be string, is integer; data\.extra: not declared in the schema/],
      ['an example missing a required field', bad({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }, {}), /data\.id: required/],
      ['an example holding a credential', bad({ type: 'object', properties: { note: { type: 'string' } } }, { note: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP' }),
        /data\.note: looks like a credential \(otpauth-url\)/],
      ['an example that is not an object', bad({ type: 'object', properties: {} }, ['x']), /example must be an object/],
      ['an example without a schema', { type: 'ORDER_PLACED', description: 'x', example: {} }, /example needs a schema/],
    ];
    for (const [what, input, message] of cases) {
      it(`refuse ${what} with a CatalogueError naming the type and why`, () => expectCatalogueError(input, message));
    }
  });
});
