/**
 * Makes an event's `data` what its schema declares, and nothing else, before it is stored or
 * sent. Runs once per event, in the recorder, whichever way the event came (typed hook,
 * `emit()`, audit event, test send):
 * - fields the schema does not declare are dropped, at any depth (objects never allow more);
 * - values of the wrong JSON type, outside an `enum` or a length bound are dropped; Dates and
 *   objects with a JSON form (ObjectIds, documents) are first turned into it, and numbers
 *   where a string is declared into strings (ids are often numbers in a host's database);
 * - objects declared as a user (`#/$defs/User`) go through the user mapper (the host's, if it
 *   gave one), then are shaped like any other object: a mapper cannot add fields either;
 * - string values that are credentials (credential-values.ts) are dropped wherever they are.
 *   Only that value: the event is still sent, so a user-controlled field (a display name set
 *   to a JWT) cannot suppress that user's events.
 *
 * Each dropped path is logged once per plugin instance and event type, with the path
 * (`users[].password`) and why, never the value. A required field that is missing for any
 * reason but a refused credential is the caller's mistake: that throws a ValidationError
 * naming it, as the typed hooks' argument checks do.
 *
 * Host types registered without a schema keep the deny-list scrubber (sensitive-data.ts).
 */
import { ValidationError } from '../../errors.js';
import type { Logger } from '../../options.js';
import type { EventCatalogue } from '../catalogue.js';
import type { CurrentContext } from '../envelope.js';
import { plainArray } from '../plain-array.js';
import { scrubEventData } from '../sensitive-data.js';
import type { UserMapper } from '../user-mapper.js';
import { credentialKindOf } from './credential-values.js';
import { isDateTime, jsonTypeOf, partNameOf, typeAllows, typesOf, type DataSchema } from './data-schema.js';
import { isPartName, PAYLOAD_PARTS, USER_PART } from './schema-parts.js';

/** Distinct (type, path) drops logged per plugin instance; past it, one notice and silence. */
const MAX_LOGGED_DROPS = 1_000;

export interface PayloadShaperDeps {
  catalogue: EventCatalogue;
  /** The user mapper in force: the host's `userMapper` option, else the built-in allow-list. */
  mapUser: UserMapper;
  logger: Logger;
}

interface Walk {
  type: string;
  /** Paths of required fields left out because their value was a credential: not the caller's mistake. */
  refused: Set<string>;
  missing: string[];
}

const DROPPED = Symbol('dropped');
type Shaped = unknown | typeof DROPPED;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export class PayloadShaper {
  readonly #deps: PayloadShaperDeps;
  readonly #logged = new Set<string>();
  /** Objects the mapper produced: mapping them again (a typed hook maps before the recorder) would lose fields. */
  readonly #mapped = new WeakSet<object>();

  /**
   * The user mapper, made idempotent: what it returns is never mapped a second time. The typed
   * hooks map with this one, so their users pass the shaper unchanged (apart from shaping).
   */
  readonly mapUser: UserMapper = (user) => {
    if (this.#mapped.has(user)) return user;
    const out = this.#deps.mapUser(user) as unknown;
    const result = out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
    this.#mapped.add(result);
    return result;
  };

  constructor(deps: PayloadShaperDeps) {
    this.#deps = deps;
    for (const definition of deps.catalogue.list()) {
      if (definition.schema === null) {
        deps.logger.warn(`Event type ${definition.type} has no data schema: its data is only scrubbed of known credential names and values. `
          + 'Give it a schema (customEventTypes[].schema) to make "only declared fields leave the host" true for it.', { eventType: definition.type });
      }
    }
  }

  /**
   * `data` as it may leave the host.
   * @throws {ValidationError} when a required field is missing (other than a refused credential).
   */
  shape(type: string, data: Record<string, unknown>): Record<string, unknown> {
    const schema = this.#deps.catalogue.get(type)?.schema ?? null;
    if (schema === null) {
      return scrubEventData(data, this.mapUser, (path, reason) => this.#report(type, path, reason)) as Record<string, unknown>;
    }
    const walk: Walk = { type, refused: new Set(), missing: [] };
    const shaped = this.#shape(data, schema, '', walk);
    if (walk.missing.length) {
      throw new ValidationError(`The ${type} event data misses required fields: ${walk.missing.join(', ')}`,
        walk.missing.map((path) => ({ path: `data.${path}`, message: 'is required' })));
    }
    return shaped === DROPPED ? {} : (shaped as Record<string, unknown>);
  }

  /**
   * The event's context with credential-shaped host strings left out (a request id or user
   * agent that is a token, an actor's name set to a JWT): optional fields are omitted, nullable
   * ones become null. Ids stay: they come from the host's own records.
   */
  shapeContext(type: string, context: CurrentContext): CurrentContext {
    const refuse = (value: string | null | undefined, path: string): boolean => {
      const kind = typeof value === 'string' ? credentialKindOf(value) : null;
      if (kind) this.#report(type, `<context>.${path}`, `credential-shaped value (${kind})`);
      return kind !== null;
    };
    const { request, actor, client, subject } = context;
    return {
      ...context,
      subject: refuse(subject, 'subject') ? null : subject,
      request: request && {
        ...request,
        user_agent: refuse(request.user_agent, 'request.user_agent') ? null : request.user_agent,
        request_id: refuse(request.request_id, 'request.request_id') ? null : request.request_id,
      },
      actor: actor && (refuse(actor.username, 'actor.username') ? { id: actor.id, type: actor.type } : actor),
      client: client && (refuse(client.name, 'client.name') ? { id: client.id } : client),
    };
  }

  #shape(input: unknown, schema: DataSchema, path: string, walk: Walk): Shaped {
    if (schema.$ref !== undefined) {
      const name = partNameOf(schema.$ref);
      if (name === undefined || !isPartName(name)) return this.#drop(walk, path, 'schema refers to an unknown part');
      let value = input;
      if (name === USER_PART && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        value = this.mapUser(value as Record<string, unknown>);
      }
      return this.#shape(value, PAYLOAD_PARTS[name], path, walk);
    }
    const value = this.#toJsonValue(input, schema);
    if (value === undefined) return DROPPED;
    const actual = jsonTypeOf(value);
    if (actual === undefined) return this.#drop(walk, path, 'not a JSON value');
    if (!typeAllows(schema, actual)) return this.#drop(walk, path, `wrong type (${actual}; declared ${typesOf(schema)!.join(' or ')})`);
    if (schema.enum && !schema.enum.includes(value as never)) return this.#drop(walk, path, 'not one of the declared enum values');
    if (typeof value === 'string') return this.#shapeString(value, schema, path, walk);
    if (Array.isArray(value)) {
      const items = schema.items;
      if (!items) return [];
      return plainArray(value, (item) => this.#shape(item, items, `${path}[]`, walk), DROPPED);
    }
    if (actual === 'object') return this.#shapeObject(value as Record<string, unknown>, schema, path, walk);
    return value;
  }

  #shapeObject(value: Record<string, unknown>, schema: DataSchema, path: string, walk: Walk): Record<string, unknown> {
    const properties = schema.properties ?? {};
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (child === undefined) continue;
      if (!Object.prototype.hasOwnProperty.call(properties, key)) {
        // The name may itself be sensitive (a JWT used as a key): log where, not what.
        this.#drop(walk, credentialKindOf(key) ? `${path ? `${path}.` : ''}<key>` : at, 'not declared in the schema');
        continue;
      }
      const shaped = this.#shape(child, properties[key]!, at, walk);
      if (shaped !== DROPPED) out[key] = shaped;
    }
    for (const name of schema.required ?? []) {
      const at = path ? `${path}.${name}` : name;
      if (out[name] === undefined && !walk.refused.has(at)) walk.missing.push(at);
    }
    return out;
  }

  #shapeString(value: string, schema: DataSchema, path: string, walk: Walk): Shaped {
    const kind = credentialKindOf(value);
    if (kind) {
      walk.refused.add(path);
      return this.#drop(walk, path, `credential-shaped value (${kind})`);
    }
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) return this.#drop(walk, path, `shorter than minLength ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > schema.maxLength) return this.#drop(walk, path, `longer than maxLength ${schema.maxLength}`);
    if (schema.format === 'date-time' && !isDateTime(value)) return this.#drop(walk, path, 'not an RFC 3339 date-time');
    return value;
  }

  /** The JSON form of `input`; undefined (silently) for undefined, which JSON leaves out anyway. */
  #toJsonValue(input: unknown, schema: DataSchema): unknown {
    if (input === undefined) return undefined;
    if (input instanceof Date) return Number.isNaN(input.getTime()) ? null : input.toISOString();
    if (typeof input === 'number' && Number.isFinite(input) && !typeAllows(schema, jsonTypeOf(input)!) && typeAllows(schema, 'string')) {
      return String(input);
    }
    if (input !== null && typeof input === 'object' && !Array.isArray(input) && !isPlainObject(input)) {
      const json = (input as { toJSON?: () => unknown }).toJSON;
      if (typeof json !== 'function') return { ...input };
      // One toJSON only: one that returns itself or a new instance of its class would recurse for ever.
      const plain = json.call(input);
      return plain !== null && typeof plain === 'object' && !Array.isArray(plain) && !isPlainObject(plain) ? { ...plain } : plain;
    }
    return input;
  }

  #drop(walk: Walk, path: string, reason: string): typeof DROPPED {
    this.#report(walk.type, path, reason);
    return DROPPED;
  }

  #report(type: string, path: string, reason: string): void {
    const key = `${type}\u0000${path}`;
    if (this.#logged.has(key) || this.#logged.size > MAX_LOGGED_DROPS) return;
    this.#logged.add(key);
    if (this.#logged.size > MAX_LOGGED_DROPS) {
      this.#deps.logger.warn(`More than ${MAX_LOGGED_DROPS} distinct fields were dropped from event data; further ones are not logged`);
      return;
    }
    this.#deps.logger.warn(`Dropped ${path || 'data'} from ${type} event data: ${reason}`, { eventType: type, path, reason });
  }
}
