import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  BUILT_IN_EVENT_TYPES,
  CatalogueError,
  DEFAULT_CUSTOM_CATEGORY,
  EVENT_CATEGORIES,
  EVENT_TYPE_NAME_PATTERN,
  EventCatalogue,
  TEST_EVENT_TYPE,
  type CustomEventTypeInput,
} from '../../plugin/events/catalogue.js';
import { renderCatalogueMarkdown } from '../../plugin/events/catalogue-markdown.js';
import { isValidSelector, matchesAny, selectorMatches } from '../../plugin/events/event-selector.js';

const SEED_003 = new URL('../../../shared/seeds/003_1fe2c47ba2fbee68.txt', import.meta.url);
const DOCS_FILE = new URL('../../docs/event-catalogue.md', import.meta.url);

/** Seed 003 rows that run two event names together, and the two events each stands for. */
const RUN_TOGETHER_ROWS: Record<string, readonly [string, string]> = {
  APP_CREATEDAPP_MODIFIED: ['APP_CREATED', 'APP_MODIFIED'],
  ROLE_CREATEDROLE_UPDATED: ['ROLE_CREATED', 'ROLE_UPDATED'],
  INVITE_USERRE_INVITE_USER: ['INVITE_USER', 'RE_INVITE_USER'],
  INVITE_ACCEPTEDINVITE_REVOKED: ['INVITE_ACCEPTED', 'INVITE_REVOKED'],
  TOKEN_RENEWEDCODE_OBTAINED: ['TOKEN_RENEWED', 'CODE_OBTAINED'],
  COMBINEDLOGOUTTOKEN_CHECKED: ['COMBINED_LOGOUT', 'TOKEN_CHECKED'],
};

/** Every seed-003 event after splitting, so the check still holds where the seed is absent. */
const SEED_003_EVENTS = [
  'USER_LOGIN', 'USER_LOGIN_FAILURE', 'USER_CREATED', 'USER_MODIFIED', 'USER_DELETED',
  'USER_ENABLED', 'USER_DISABLED', 'USER_EMAIL_VERIFIED', 'USER_MOBILE_NO_VERIFIED',
  'USER_IDENTITY_ADDED', 'USER_IDENTITY_REMOVED', 'USER_PASSWORD_CHANGED', 'EMAIL_CHANGED',
  'USER_PASSWORD_RESET_INITIATE', 'USER_PASSWORD_RESET', 'USER_BLOCKED',
  'COMBINED_LOGOUT', 'TOKEN_CHECKED', 'TOKEN_RENEWED', 'CODE_OBTAINED', 'ACCESS_TOKEN_OBTAINED',
  'APP_CREATED', 'APP_MODIFIED', 'APP_DELETED', 'ROLE_CREATED', 'ROLE_UPDATED', 'ROLE_DELETED',
  'PERMISSION_CREATED', 'PERMISSION_UPDATED', 'PERMISSION_DELETED',
  'GROUP_CATEGORY_CREATED', 'GROUP_CATEGORY_UPDATED', 'GROUP_CATEGORY_DELETED',
  'PROVIDER_CREATED', 'PROVIDER_UPDATED', 'PROVIDER_DELETED', 'GROUP_NEW_USER_ADDED',
  'INVITE_USER', 'RE_INVITE_USER', 'INVITE_ACCEPTED', 'INVITE_REVOKED', 'USER_CREATED_WITH_INVITE',
  'GROUP_USER_ROLE_UPDATED', 'GROUP_USER_REMOVED', 'TENANT_CREATED',
  'GROUP_CREATED', 'GROUP_UPDATED', 'GROUP_DELETED',
  'SMS_SENT', 'EMAIL_SENT', 'IVR_TRIGGERED', 'PUSH_SENT',
  'SCOPE_CREATED', 'SCOPE_UPDATED', 'SCOPE_DELETED', 'SCOPE_DEC_CREATED', 'SCOPE_DEC_UPDATED', 'SCOPE_DEC_DELETED',
  'REGISTRATION_FIELD_CREATED', 'REGISTRATION_FIELD_UPDATED', 'REGISTRATION_FIELD_DELETED',
  'GROUP_TYPE_CREATED', 'GROUP_TYPE_UPDATED', 'GROUP_TYPE_DELETED',
  'HOSTED_PAGE_CREATED', 'HOSTED_PAGE_UPDATED', 'HOSTED_PAGE_DELETED',
  'TEMPLATE_CREATED', 'TEMPLATE_UPDATED', 'TEMPLATE_DELETED',
  'CUSTOM_TEMPLATE_CREATED', 'CUSTOM_TEMPLATE_UPDATED', 'CUSTOM_TEMPLATE_DELETED',
  'WEBHOOK_CREATED', 'WEBHOOK_UPDATED', 'WEBHOOK_DELETED',
  'CAPTCHA_CREATED', 'CAPTCHA_UPDATED', 'CAPTCHA_DELETED',
  'PROFILE_IMAGE_UPDATED', 'PROFILE_IMAGE_REMOVED', 'MFA_REQUIRED',
  'PHYSICAL_VERIFICATION_CONFIG', 'PHYSICAL_VERIFICATION_REMOVED', 'PHYSICAL_VERIFICATION',
  'FLOW_CREATED', 'FLOW_UPDATED', 'FLOW_DELETED', 'MFA_INITIATED', 'MFA_RE_INITIATED', 'MFA_VERIFIED',
];

const ADDED_EVENTS = ['ROLE_ASSIGNED', 'ROLE_UNASSIGNED', 'USER_LOGOUT', 'USER_SECURITY_KEYS_PROVISIONED', 'WEBHOOK_TEST',
  // Operational events (issue 11).
  'WEBHOOK_DISABLED', 'WEBHOOK_FAILING', 'DELIVERY_EXHAUSTED'];

/**
 * Event names from the seed's "Available webhook events" table, with its formatting
 * (escaped underscores, HTML, trailing colons) removed and run-together rows split.
 */
function parseSeedEvents(text: string): string[] {
  const start = text.indexOf('Available webhook events');
  assert.notEqual(start, -1, 'seed 003 has no "Available webhook events" table');
  const names: string[] = [];
  for (const line of text.slice(start).split('\n')) {
    if (!line.startsWith('|')) continue;
    const cell = line.split('|')[1] ?? '';
    const name = cell
      .replace(/<[^>]*>/g, '')
      .replace(/\\_/g, '_')
      .replace(/:\s*$/, '')
      .trim();
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) continue; // header and separator rows
    names.push(...(RUN_TOGETHER_ROWS[name] ?? [name]));
  }
  return names;
}

function expectCatalogueError(custom: CustomEventTypeInput[], message: RegExp): void {
  assert.throws(
    () => new EventCatalogue(custom),
    (error: unknown) => {
      assert.ok(error instanceof CatalogueError, 'expected a CatalogueError');
      assert.equal(error.code, 'invalid_event_type');
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('event catalogue', () => {
  describe('built-in types', () => {
    it('contains every event named in the cidaas table of seed 003', async function () {
      let text: string;
      try {
        text = await readFile(SEED_003, 'utf8');
      } catch {
        console.log(`      seed 003 not found at ${SEED_003.pathname}; the hard-coded list still covers it`);
        this.skip();
      }
      const parsed = parseSeedEvents(text);
      assert.deepEqual(parsed, SEED_003_EVENTS, 'the hard-coded list should mirror the seed table');
      const catalogue = new EventCatalogue();
      assert.deepEqual(parsed.filter((name) => !catalogue.has(name)), []);
    });

    it('contains every event of the hard-coded seed-003 list', () => {
      const catalogue = new EventCatalogue();
      assert.equal(SEED_003_EVENTS.length, 91);
      assert.deepEqual(SEED_003_EVENTS.filter((name) => !catalogue.has(name)), []);
    });

    it('splits each run-together seed row into two events and keeps no joined name', () => {
      const catalogue = new EventCatalogue();
      for (const [joined, [first, second]] of Object.entries(RUN_TOGETHER_ROWS)) {
        assert.ok(catalogue.has(first), `${first} from ${joined}`);
        assert.ok(catalogue.has(second), `${second} from ${joined}`);
        assert.equal(catalogue.has(joined), false, joined);
      }
      assert.ok(catalogue.has('PHYSICAL_VERIFICATION_CONFIG'));
    });

    it('adds role assignment, logout, security-key and test events', () => {
      const catalogue = new EventCatalogue();
      for (const name of ADDED_EVENTS) assert.ok(catalogue.has(name), name);
      assert.equal(TEST_EVENT_TYPE, 'WEBHOOK_TEST');
    });

    it('holds exactly the seed events plus the additions, each once', () => {
      const names = BUILT_IN_EVENT_TYPES.map((entry) => entry.type);
      assert.equal(new Set(names).size, names.length, 'duplicate built-in type');
      assert.deepEqual([...names].sort(), [...SEED_003_EVENTS, ...ADDED_EVENTS].sort());
    });

    it('gives every type a valid name, a known category and a one-sentence description', () => {
      for (const { type, category, description } of BUILT_IN_EVENT_TYPES) {
        assert.match(type, EVENT_TYPE_NAME_PATTERN);
        assert.ok(type.length <= 64, type);
        assert.ok((EVENT_CATEGORIES as readonly string[]).includes(category), `${type}: ${category}`);
        assert.match(description, /^[A-Z][^<>\\]*\.$/, `${type}: ${description}`);
        assert.equal(description.split(/\.\s/).length, 1, `${type} has more than one sentence`);
      }
    });

    it('uses every category and lists them in EVENT_CATEGORIES order', () => {
      assert.deepEqual(new EventCatalogue().categories(), [...EVENT_CATEGORIES]);
    });

    it('is frozen so no caller can change the shared built-ins', () => {
      const catalogue = new EventCatalogue();
      assert.ok(Object.isFrozen(BUILT_IN_EVENT_TYPES));
      assert.ok(Object.isFrozen(BUILT_IN_EVENT_TYPES[0]));
      assert.ok(Object.isFrozen(EVENT_CATEGORIES));
      assert.ok(Object.isFrozen(catalogue.list()));
      assert.ok(Object.isFrozen(catalogue.get('USER_LOGIN')));
    });

    it('describes a built-in type with builtIn true, its category and its data schema and example', () => {
      const { schema, example, ...rest } = new EventCatalogue().get('USER_LOGIN')!;
      assert.deepEqual(rest, {
        type: 'USER_LOGIN',
        category: 'AUTH',
        description: 'A user successfully logged in.',
        builtIn: true,
      });
      assert.deepEqual(schema?.properties?.user, { $ref: '#/$defs/User' });
      assert.deepEqual(Object.keys(schema?.$defs ?? {}), ['User']);
      assert.equal((example.user as { id: string }).id.length > 0, true);
      assert.equal(new EventCatalogue().get('NOPE'), undefined);
    });
  });

  describe('custom types', () => {
    it('registers a host type after the built-ins with the CUSTOM category by default', () => {
      const catalogue = new EventCatalogue([
        { type: 'ORDER_SHIPPED', description: '  An order was shipped.  ' },
        { type: 'ORDER_2FA_RESET', category: 'ORDERS', description: 'A second factor was reset.' },
      ]);
      assert.deepEqual(catalogue.get('ORDER_SHIPPED'), {
        type: 'ORDER_SHIPPED',
        category: DEFAULT_CUSTOM_CATEGORY,
        description: 'An order was shipped.',
        builtIn: false,
        schema: null,
        example: {},
      });
      assert.equal(catalogue.get('ORDER_2FA_RESET')?.category, 'ORDERS');
      const list = catalogue.list();
      assert.equal(list.length, BUILT_IN_EVENT_TYPES.length + 2);
      assert.deepEqual(list.slice(-2).map((d) => d.type), ['ORDER_SHIPPED', 'ORDER_2FA_RESET']);
      assert.deepEqual(catalogue.categories().slice(-2), ['CUSTOM', 'ORDERS']);
      assert.deepEqual(catalogue.byCategory().CUSTOM?.map((d) => d.type), ['ORDER_SHIPPED']);
    });

    it('accepts a name of exactly 64 characters', () => {
      const type = `A${'_B'.repeat(31)}B`;
      assert.equal(type.length, 64);
      assert.ok(new EventCatalogue([{ type, description: 'Long but allowed.' }]).has(type));
    });

    it('rejects names that are not UPPER_SNAKE_CASE, naming the type', () => {
      for (const type of ['order_shipped', 'Order_Shipped', '1ORDER', 'ORDER__SHIPPED', 'ORDER_', '_ORDER', 'ORDER-SHIPPED', 'ORDER.SHIPPED']) {
        expectCatalogueError([{ type, description: 'x' }], new RegExp(`"${type.replace('.', '\\.')}".*UPPER_SNAKE_CASE`));
      }
    });

    it('rejects an empty or missing name', () => {
      expectCatalogueError([{ type: '', description: 'x' }], /""[^]*must not be empty/);
      expectCatalogueError([{ description: 'x' } as unknown as CustomEventTypeInput], /index 0.*type must be a string/);
    });

    it('rejects a name longer than 64 characters', () => {
      const type = 'A'.repeat(65);
      expectCatalogueError([{ type, description: 'x' }], new RegExp(`"${type}".*65 characters long, the maximum is 64`));
    });

    it('rejects a name that collides with a built-in type', () => {
      expectCatalogueError([{ type: 'USER_LOGIN', description: 'Mine.' }], /"USER_LOGIN".*collides with a built-in/);
      expectCatalogueError([{ type: TEST_EVENT_TYPE, description: 'Mine.' }], /"WEBHOOK_TEST".*collides with a built-in/);
    });

    it('rejects a name registered twice', () => {
      expectCatalogueError(
        [
          { type: 'ORDER_SHIPPED', description: 'One.' },
          { type: 'ORDER_SHIPPED', description: 'Two.' },
        ],
        /"ORDER_SHIPPED".*registered more than once/,
      );
    });

    it('rejects empty, blank, non-string and over-long descriptions', () => {
      expectCatalogueError([{ type: 'ORDER_SHIPPED', description: '' }], /"ORDER_SHIPPED".*description must not be empty/);
      expectCatalogueError([{ type: 'ORDER_SHIPPED', description: ' \n\t' }], /"ORDER_SHIPPED".*description must not be empty/);
      expectCatalogueError(
        [{ type: 'ORDER_SHIPPED' } as unknown as CustomEventTypeInput],
        /"ORDER_SHIPPED".*description must be a string/,
      );
      expectCatalogueError(
        [{ type: 'ORDER_SHIPPED', description: 'x'.repeat(301) }],
        /"ORDER_SHIPPED".*description is 301 characters long, the maximum is 300/,
      );
      assert.ok(new EventCatalogue([{ type: 'ORDER_SHIPPED', description: 'x'.repeat(300) }]).has('ORDER_SHIPPED'));
    });

    it('rejects categories that are not upper case', () => {
      expectCatalogueError([{ type: 'ORDER_SHIPPED', category: 'orders', description: 'x' }], /"ORDER_SHIPPED".*category "orders"/);
      expectCatalogueError([{ type: 'ORDER_SHIPPED', category: '', description: 'x' }], /"ORDER_SHIPPED".*category ""/);
    });

    it('rejects entries that are not objects and input that is not an array', () => {
      expectCatalogueError([null as unknown as CustomEventTypeInput], /index 0 must be an object/);
      assert.throws(() => new EventCatalogue('ORDER_SHIPPED' as unknown as CustomEventTypeInput[]), CatalogueError);
    });

    it('keeps two catalogues independent of each other', () => {
      const withOrders = new EventCatalogue([{ type: 'ORDER_SHIPPED', description: 'An order was shipped.' }]);
      const plain = new EventCatalogue();
      const withRefunds = new EventCatalogue([{ type: 'ORDER_REFUNDED', description: 'An order was refunded.' }]);
      assert.ok(withOrders.has('ORDER_SHIPPED'));
      assert.equal(plain.has('ORDER_SHIPPED'), false);
      assert.equal(withRefunds.has('ORDER_SHIPPED'), false);
      assert.equal(withOrders.has('ORDER_REFUNDED'), false);
      assert.equal(plain.list().length, BUILT_IN_EVENT_TYPES.length);
      // A name taken in one catalogue stays free in another.
      assert.ok(new EventCatalogue([{ type: 'ORDER_SHIPPED', description: 'Again.' }]).has('ORDER_SHIPPED'));
    });

    it('returns a fresh grouping object each call so callers cannot corrupt it', () => {
      const catalogue = new EventCatalogue();
      catalogue.byCategory().USER?.splice(0);
      assert.ok((catalogue.byCategory().USER?.length ?? 0) > 0);
    });
  });

  describe('generated docs', () => {
    it('docs/event-catalogue.md matches the catalogue (run npx tsx scripts/generate-event-docs.ts)', async () => {
      const committed = await readFile(DOCS_FILE, 'utf8');
      assert.equal(committed, renderCatalogueMarkdown(new EventCatalogue()));
    });

    it('renders custom types, escaping table syntax in their descriptions', () => {
      const markdown = renderCatalogueMarkdown(
        new EventCatalogue([{ type: 'ORDER_SHIPPED', description: 'Shipped | or\nsent.' }]),
      );
      assert.match(markdown, /## CUSTOM\n\n\| Type \| Description \| Data \|\n\| --- \| --- \| --- \|\n\| `ORDER_SHIPPED` \| Shipped \\\| or sent\. \(custom\) \| not declared: scrubbed of credentials only \|\n/);
    });

    it('lists each type\'s data fields, optional ones marked, and the shared shapes', () => {
      const markdown = renderCatalogueMarkdown(new EventCatalogue([{
        type: 'ORDER_SHIPPED', description: 'Shipped.',
        schema: { type: 'object', required: ['order'], properties: { order: { type: 'string' }, buyer: { $ref: '#/$defs/User' } } },
      }]));
      assert.match(markdown, /\| `USER_LOGIN` \| A user successfully logged in\. \| `user`: \[User\]\(#user\), `strategy\?`: string, `mfa\?`: boolean \|\n/);
      assert.match(markdown, /\| `ORDER_SHIPPED` \| Shipped\. \(custom\) \| `order`: string, `buyer\?`: \[User\]\(#user\) \|\n/);
      assert.match(markdown, /### User\n\n[^\n]+\n\n\| Field \| Type \| Description \|\n\| --- \| --- \| --- \|\n\| `id` \| string \|/);
    });
  });
});

describe('event selectors', () => {
  const catalogue = new EventCatalogue([{ type: 'ORDER_SHIPPED', description: 'An order was shipped.' }]);

  it('accepts *, known exact types and prefix patterns that select something', () => {
    for (const selector of ['*', 'USER_LOGIN', 'EMAIL_CHANGED', 'USER_*', 'USER_LOGIN_*', 'WEBHOOK_*', 'ORDER_*', 'ORDER_SHIPPED']) {
      assert.ok(isValidSelector(selector, catalogue), selector);
    }
  });

  it('rejects malformed selectors, patterns that select nothing and unknown types', () => {
    for (const selector of ['user_*', 'USER*', '*_LOGIN', 'NOPE_*', 'NOPE', 'USER_', '_*', 'USER__*', '**', 'USER_*_*', '', ' *']) {
      assert.equal(isValidSelector(selector, catalogue), false, JSON.stringify(selector));
    }
    assert.equal(isValidSelector('ORDER_*', new EventCatalogue()), false, 'custom types belong to one catalogue');
  });

  it('rejects WEBHOOK_TEST as a selector and patterns that would select only it', () => {
    assert.equal(isValidSelector(TEST_EVENT_TYPE, catalogue), false);
    assert.equal(isValidSelector('WEBHOOK_TEST_*', catalogue), false);
  });

  it('* matches every type except WEBHOOK_TEST', () => {
    for (const { type } of catalogue.list()) {
      assert.equal(selectorMatches('*', type), type !== TEST_EVENT_TYPE, type);
    }
  });

  it('an exact selector matches only that type', () => {
    assert.ok(selectorMatches('USER_LOGIN', 'USER_LOGIN'));
    assert.equal(selectorMatches('USER_LOGIN', 'USER_LOGIN_FAILURE'), false);
    assert.equal(selectorMatches('USER_LOGIN', 'USER_LOGOUT'), false);
  });

  it('USER_* matches by name prefix, not by category', () => {
    assert.ok(selectorMatches('USER_*', 'USER_LOGIN'));
    assert.ok(selectorMatches('USER_*', 'USER_CREATED'));
    assert.equal(selectorMatches('USER_*', 'EMAIL_CHANGED'), false);
    assert.equal(selectorMatches('USER_*', 'USER'), false);
    assert.equal(selectorMatches('USER_*', 'USERS_CREATED'), false);
    assert.ok(selectorMatches('USER_LOGIN_*', 'USER_LOGIN_FAILURE'));
    assert.equal(selectorMatches('USER_LOGIN_*', 'USER_LOGIN'), false);
  });

  it('malformed selectors match nothing', () => {
    for (const selector of ['user_*', 'USER*', '*_LOGIN', 'USER_', '_*', '']) {
      assert.equal(selectorMatches(selector, 'USER_LOGIN'), false, JSON.stringify(selector));
    }
  });

  it('never matches WEBHOOK_TEST, whatever the selector', () => {
    assert.equal(selectorMatches('*', 'WEBHOOK_TEST'), false);
    assert.equal(selectorMatches('WEBHOOK_*', 'WEBHOOK_TEST'), false);
    assert.equal(selectorMatches('WEBHOOK_TEST', 'WEBHOOK_TEST'), false);
    assert.ok(selectorMatches('WEBHOOK_*', 'WEBHOOK_CREATED'));
    assert.equal(matchesAny(['*', 'WEBHOOK_*', 'WEBHOOK_TEST'], 'WEBHOOK_TEST'), false);
  });

  it('matchesAny is true when any selector matches and false for none', () => {
    assert.ok(matchesAny(['GROUP_*', 'USER_LOGIN'], 'USER_LOGIN'));
    assert.ok(matchesAny(['GROUP_*', 'USER_LOGIN'], 'GROUP_CREATED'));
    assert.equal(matchesAny(['GROUP_*', 'USER_LOGIN'], 'EMAIL_CHANGED'), false);
    assert.equal(matchesAny([], 'USER_LOGIN'), false);
  });
});
