import assert from 'node:assert/strict';
import { createPublicKey, verify as edVerify } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { buildAdminUi } from '../../admin-ui/build.js';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { createAdminHost } from '../support/admin-host.js';
import {
  CHROMIUM_PATH, chromiumAvailable, focusedElement, horizontalOverflow, launchChromium, screenshot, unnamedControls, watchPage,
} from '../support/browser.js';
import { eventually, startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';
import { deliveryRecord, eventRecord } from '../support/records.js';

const API = '/admin/webhooks/api';

describe('Webhook Settings UI in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let server: Server;
  let origin: string;
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`    (skipped: no Chromium at ${CHROMIUM_PATH}; apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    await buildAdminUi();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin());
    const app = createAdminHost(plugin);
    server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await plugin.stop();
    await receiver.stop();
  });

  /** A browser context signed in as alice through the host's session cookie (the CSRF path). */
  async function signedInPage(viewport = { width: 1280, height: 900 }, signedIn = true): Promise<Page> {
    const context = await browser.newContext({ viewport, reducedMotion: 'reduce', colorScheme: 'light' });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    if (signedIn) await context.addCookies([{ name: 'sid', value: 'session-alice', domain: '127.0.0.1', path: '/' }]);
    return context.newPage();
  }

  /** Focus moves after renders and animation frames: wait briefly for it. */
  async function expectFocus(page: Page, check: (f: { tag: string; id: string; text: string }) => boolean, message = 'focus') {
    try {
      await eventually(async () => check(await focusedElement(page)), 2_000);
    } catch {
      assert.fail(`${message}: focus is on ${JSON.stringify(await focusedElement(page))}`);
    }
  }

  const hooksOfAcme = () => plugin.store.listWebhooks('acme');
  const acme = () => plugin.context({ tenantId: 'acme' }, 'default');

  it('creates, tests, inspects, edits, disables, rotates and deletes a webhook as an operator would', async () => {
    const page = await signedInPage();
    const watch = watchPage(page);
    watch.expect({ method: 'POST', path: /\/webhooks$/, status: 400 });
    await page.goto(`${origin}${API}/ui/`);

    // Empty state.
    await page.getByRole('heading', { name: 'No webhooks yet — create one' }).waitFor();
    await screenshot(page, '01-empty');
    await page.getByRole('button', { name: '+ Create webhook' }).click();
    await page.getByRole('heading', { name: 'Create webhook' }).waitFor();
    await expectFocus(page, (f) => f.text === 'Create webhook', 'the form heading takes focus');

    // Fill the form as cidaas' Create Webhook view asks, plus our extras.
    await page.getByLabel('Webhook name *').fill('CRM sync');
    await page.getByLabel('Description').fill('Keeps the CRM user list in step');
    await page.getByRole('checkbox', { name: /^USER_\*/ }).check();
    await page.getByLabel('Search event types').fill('role was created');
    await page.getByRole('checkbox', { name: /ROLE_CREATED/ }).check();
    await page.getByLabel('Search event types').fill('');
    await page.getByText('event types selected').first().waitFor();
    await page.getByLabel('URL *').fill('ftp://x');
    await page.getByLabel('API key header').fill('x-crm-key');
    await page.getByLabel('API key', { exact: true }).fill('api-key-0123456789abcdef');
    await page.getByRole('button', { name: '+ Add header' }).click();
    await expectFocus(page, (f) => f.id.startsWith('h-name-'), 'a new header row focuses its name');
    await page.getByLabel('Header 1 name').fill('x-tenant');
    await page.getByLabel('Header 1 value').fill('acme-tenant-header-value');
    assert.deepEqual(await unnamedControls(page), [], 'every control of the form has an accessible name');
    await page.getByRole('button', { name: 'Create', exact: true }).click();

    // The API refuses the URL: the message sits next to the field, which says it is invalid.
    const url = page.locator('#url');
    await page.locator('#url-error').waitFor();
    assert.match(await page.locator('#url-error').innerText(), /https:\/\/ or http:\/\//);
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    assert.match(String(await url.getAttribute('aria-describedby')), /url-error/);
    assert.match(await page.locator('#error-summary').innerText(), /URL: The URL must start with/);
    await expectFocus(page, (f) => f.id === 'error-summary', 'the error summary takes focus');
    await screenshot(page, '02-field-error');
    await page.locator('#error-summary').getByRole('button').click();
    await expectFocus(page, (f) => f.id === 'url', 'the summary links to the field');
    assert.equal(await hooksOfAcme().then((h) => h.length), 0);

    await url.fill(`${receiver.url}/hooks/crm`);
    assert.equal(await url.getAttribute('aria-invalid'), 'false', 'typing clears the error');
    await page.getByRole('button', { name: 'Create', exact: true }).click();

    // The secret, once, with a copy button; Escape closes the dialog.
    const secretDialog = page.getByRole('dialog', { name: /copy its signing secret/ });
    await secretDialog.waitFor();
    const secret = await page.locator('#secret').inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByText('it will not be shown again').waitFor();
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Secret copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await screenshot(page, '03-secret');
    await page.keyboard.press('Escape');
    await secretDialog.waitFor({ state: 'hidden' });
    await expectFocus(page, (f) => /Send test CRM sync/.test(f.text), 'focus lands on the new webhook');

    // Listed, with its events and state.
    const [stored] = await hooksOfAcme();
    assert.deepEqual(stored.events, ['USER_*', 'ROLE_CREATED']);
    const card = page.locator(`li[data-id="${stored.id}"]`);
    await card.getByRole('heading', { name: 'CRM sync' }).waitFor();
    assert.match(await card.innerText(), /USER_\*[\s\S]*ROLE_CREATED/);
    assert.match(await card.innerText(), /Enabled/);
    assert.match(await card.innerText(), /No deliveries yet/);
    assert.match(await card.innerText(), /API key in x-crm-key · 1 custom header/);
    assert.deepEqual(await unnamedControls(page), [], 'every control of the list has an accessible name');

    // A test send reaches the receiver, signed with the secret just shown, with the credentials.
    await card.getByRole('button', { name: 'Send test CRM sync' }).click();
    await card.locator('[data-test-result="success"]').waitFor();
    assert.match(await card.locator('[data-test-result]').innerText(), /Test delivered: HTTP 200 in \d+ ms[\s\S]*ok/);
    assert.equal(receiver.requests.length, 1);
    const sent = receiver.requests[0];
    const verified = new StandardWebhook(secret).verify(sent.body, sent.headers as Record<string, string>) as { event_type: string };
    assert.equal(verified.event_type, 'WEBHOOK_TEST');
    assert.equal(sent.headers['x-crm-key'], 'api-key-0123456789abcdef');
    assert.equal(sent.headers['x-tenant'], 'acme-tenant-header-value');
    await card.getByText(/100%/).waitFor();
    await page.getByRole('status').filter({ hasText: 'Test event delivered to CRM sync' }).waitFor();
    await screenshot(page, '04-list-after-test');

    // Real events, more than one page of the log.
    for (let i = 0; i < 21; i += 1) await plugin.hooks.userLogin({ user: { id: `u${i}` } }, { tenantId: 'acme' });
    await receiver.waitFor(22);
    await eventually(async () => (await plugin.store.listDeliveries('acme', stored.id, { limit: 100 })).every((d) => d.status === 'succeeded'));

    // The delivery log: pages, filters, details, resend, recover.
    await card.getByRole('button', { name: 'Delivery log CRM sync' }).click();
    await page.getByRole('heading', { name: 'Delivery log: CRM sync' }).waitFor();
    const rows = page.locator('tbody tr');
    await eventually(async () => (await rows.count()) === 20);
    assert.ok(!(await page.locator('tbody').innerText()).includes('Pending'));
    await page.getByRole('button', { name: 'Load more' }).click();
    await eventually(async () => (await rows.count()) === 22);
    assert.match(await rows.last().innerText(), /WEBHOOK_TEST[\s\S]*Succeeded/);
    await expectFocus(page, (f) => /^Details/.test(f.text), 'focus continues at the first new row');
    assert.deepEqual(await unnamedControls(page), [], 'every control of the log has an accessible name');
    await screenshot(page, '05-delivery-log');

    await page.getByLabel('Event type').selectOption('WEBHOOK_TEST');
    await eventually(async () => (await rows.count()) === 1);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No delivery matches these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await eventually(async () => (await rows.count()) === 1);

    await rows.first().getByRole('button', { name: /^Details/ }).click();
    const detail = page.getByRole('dialog', { name: /Delivery of WEBHOOK_TEST/ });
    await detail.getByText('Attempt 1', { exact: true }).waitFor();
    await detail.getByText('Request headers (').click();
    const detailText = await detail.innerText();
    assert.match(detailText, /HTTP 200/);
    assert.match(detailText, /webhook-signature/);
    assert.match(detailText, /x-crm-key\s+\*\*\*\*cdef/, 'credentials appear masked');
    assert.ok(!detailText.includes('api-key-0123'), 'the API key is never shown');
    assert.match(detailText, /"event_type": "WEBHOOK_TEST"/);
    await screenshot(page, '06-delivery-detail');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await expectFocus(page, (f) => /^Details/.test(f.text), 'focus returns to the opener');

    await rows.first().getByRole('button', { name: /^Resend/ }).click();
    await receiver.waitFor(23);
    await eventually(async () => /Succeeded[\s\S]*\b2\b/.test(await rows.first().innerText()));
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText(/No failed deliveries since/).waitFor();
    await page.getByRole('button', { name: '← Back to webhooks' }).click();
    await expectFocus(page, (f) => /Delivery log CRM sync/.test(f.text));

    // Edit: stored secret values are shown masked and never asked for again.
    const patchBody = () => page.waitForRequest((r) => r.method() === 'PATCH').then((r) => r.postDataJSON());
    await card.getByRole('button', { name: 'Edit CRM sync' }).click();
    await page.getByRole('heading', { name: 'Edit webhook “CRM sync”' }).waitFor();
    assert.equal(await page.getByLabel('Webhook name *').inputValue(), 'CRM sync');
    const apiKeyValue = page.getByLabel('API key', { exact: true });
    assert.equal(await apiKeyValue.inputValue(), '');
    assert.equal(await apiKeyValue.getAttribute('placeholder'), 'Stored: ****cdef');
    assert.match(String(await apiKeyValue.getAttribute('aria-describedby')), /api-key-stored-hint/);
    await page.getByText('Stored — leave empty to keep').waitFor();
    assert.equal(await page.getByLabel('Header 1 value').inputValue(), '');
    assert.equal(await page.getByLabel('Header 1 value').getAttribute('placeholder'), 'Stored: ****alue — leave empty to keep');
    // Rename the API key's header without its value, and add a header without retyping the stored one.
    await page.getByLabel('Webhook name *').fill('CRM sync v2');
    await page.getByLabel('API key header').fill('x-crm-key-v2');
    await page.getByRole('button', { name: '+ Add header' }).click();
    await page.getByLabel('Header 2 name').fill('x-region');
    await page.getByLabel('Header 2 value').fill('eu-central-region-value');
    assert.deepEqual(await unnamedControls(page), [], 'every control of the edit form has an accessible name');
    await screenshot(page, '09-edit-form');
    const edit = patchBody();
    await page.getByRole('button', { name: 'Save changes' }).click();
    assert.deepEqual(await edit, { name: 'CRM sync v2', api_key: { header: 'x-crm-key-v2' }, headers: { 'x-region': 'eu-central-region-value' } },
      'only what changed is sent, no stored value');
    await card.getByRole('heading', { name: 'CRM sync v2' }).waitFor();
    const edited = await plugin.webhooks.get('acme', stored.id);
    assert.equal(edited.name, 'CRM sync v2');
    assert.deepEqual(edited.api_key, { header: 'x-crm-key-v2', value: '****cdef' }, 'the stored API key moved to the new header');
    assert.deepEqual(edited.headers, { 'x-tenant': '****alue', 'x-region': '****alue' }, 'the stored header is kept');
    assert.match(await card.innerText(), /API key in x-crm-key-v2 · 2 custom headers/);
    // The receiver still gets the stored values, the API key under its new header.
    const before = receiver.requests.length;
    await card.getByRole('button', { name: 'Send test CRM sync v2' }).click();
    await receiver.waitFor(before + 1);
    const resent = receiver.requests[before].headers;
    assert.equal(resent['x-crm-key-v2'], 'api-key-0123456789abcdef');
    assert.equal(resent['x-crm-key'], undefined);
    assert.equal(resent['x-tenant'], 'acme-tenant-header-value');
    assert.equal(resent['x-region'], 'eu-central-region-value');

    // Removing one header sends just its name, with null; the other keeps its stored value.
    await card.getByRole('button', { name: 'Edit CRM sync v2' }).click();
    await page.getByRole('heading', { name: 'Edit webhook “CRM sync v2”' }).waitFor();
    await page.getByRole('button', { name: 'Remove header 2 x-region' }).click();
    const removal = patchBody();
    await page.getByRole('button', { name: 'Save changes' }).click();
    assert.deepEqual(await removal, { headers: { 'x-region': null } });
    await card.getByRole('heading', { name: 'CRM sync v2' }).waitFor();
    assert.deepEqual((await plugin.webhooks.get('acme', stored.id)).headers, { 'x-tenant': '****alue' });

    // Disable.
    await card.getByRole('button', { name: 'Disable CRM sync v2' }).click();
    await card.getByText('Disabled', { exact: true }).waitFor();
    assert.equal((await plugin.webhooks.get('acme', stored.id)).enabled, false);
    await expectFocus(page, (f) => /Enable CRM sync v2/.test(f.text));

    // Rotate: confirm, then the new secret once, with when the old one expires.
    await card.getByRole('button', { name: 'Rotate secret CRM sync v2' }).click();
    await page.getByRole('dialog', { name: /Rotate the signing secret/ }).getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = page.getByRole('dialog', { name: 'New signing secret' });
    await rotated.getByText('The previous secret keeps signing until').waitFor();
    assert.notEqual(await page.locator('#secret').inputValue(), secret);
    await screenshot(page, '07-rotated-secret');
    await rotated.getByRole('button', { name: 'I have saved the secret' }).click();
    await rotated.waitFor({ state: 'hidden' });

    // Delete: Escape cancels; the confirm button deletes.
    await card.getByRole('button', { name: 'Delete CRM sync v2' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete “CRM sync v2”?' });
    await confirm.waitFor();
    await expectFocus(page, (f) => f.text === 'Cancel', 'the safe answer has focus');
    await screenshot(page, '08-confirm-delete');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    assert.equal((await hooksOfAcme()).length, 1);
    await card.getByRole('button', { name: 'Delete CRM sync v2' }).click();
    await confirm.getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByRole('heading', { name: 'No webhooks yet — create one' }).waitFor();
    assert.equal((await hooksOfAcme()).length, 0);
    await page.getByRole('status').filter({ hasText: 'Deleted CRM sync v2.' }).waitFor();

    assert.deepEqual(watch.problems, []);
  });

  it('sets and clears a rate limit, and shows a disabled webhook\'s waiting deliveries with a way to discard them', async () => {
    const page = await signedInPage();
    const watch = watchPage(page);
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('button', { name: '+ Create webhook' }).click();
    await page.getByLabel('Webhook name *').fill('Mailer');
    await page.getByRole('checkbox', { name: /^USER_\*/ }).check();
    await page.getByLabel('URL *').fill(`${receiver.url}/mailer`);

    // Empty means unlimited; the hint says the limit is per worker process.
    const rate = page.getByLabel('Rate limit (requests/second)');
    assert.equal(await rate.inputValue(), '');
    assert.equal(await rate.getAttribute('placeholder'), 'Unlimited');
    assert.match(await page.locator('#rate-limit-hint').innerText(), /per worker process/);
    assert.match(String(await rate.getAttribute('aria-describedby')), /rate-limit-hint/);
    await rate.fill('0');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('#rate-limit-error').waitFor();
    assert.match(await page.locator('#rate-limit-error').innerText(), /whole number from 1 to 10,000, or leave it empty for no limit/);
    assert.equal(await rate.getAttribute('aria-invalid'), 'true');
    assert.equal((await hooksOfAcme()).length, 0, 'nothing was sent');
    await rate.fill('25');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/webhooks')).then((r) => r.postDataJSON());
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    assert.equal((await posted).rate_limit_per_second, 25);
    await page.getByRole('dialog', { name: /copy its signing secret/ }).waitFor();
    await page.keyboard.press('Escape');
    const [stored] = await hooksOfAcme();
    assert.equal(stored.rateLimitPerSecond, 25);
    const card = page.locator(`li[data-id="${stored.id}"]`);
    await card.getByText('25 requests/s').waitFor();
    assert.match(await card.innerText(), /Rate limit\s+25 requests\/s per worker process/i);

    // Emptying the field clears the limit.
    await card.getByRole('button', { name: 'Edit Mailer' }).click();
    assert.equal(await rate.inputValue(), '25');
    await rate.fill('');
    const patched = page.waitForRequest((r) => r.method() === 'PATCH').then((r) => r.postDataJSON());
    await page.getByRole('button', { name: 'Save changes' }).click();
    assert.deepEqual(await patched, { rate_limit_per_second: null });
    await card.getByRole('heading', { name: 'Mailer' }).waitFor();
    assert.equal((await plugin.store.findWebhook('acme', stored.id))?.rateLimitPerSecond, null);
    assert.doesNotMatch(await card.innerText(), /Rate limit/i);

    // The receiver is down and asks for an hour: three deliveries wait for their retry.
    receiver.respondWith((_r, res) => { res.writeHead(503, { 'retry-after': '3600' }).end('down for maintenance'); });
    for (let i = 0; i < 3; i += 1) await plugin.hooks.userLogin({ user: { id: `u${i}` } }, { tenantId: 'acme' });
    await receiver.waitFor(3);
    await eventually(async () => (await plugin.store.listDeliveries('acme', stored.id, { limit: 10 }))
      .filter((d) => d.status === 'pending' && d.attempts === 1 && d.leaseOwner === null).length === 3);
    // Enabled, they are simply being retried: no waiting notice, even with the count read afresh.
    await page.reload();
    await card.getByText('3 pending').waitFor();
    assert.equal(await card.locator('[data-waiting]').count(), 0, 'an enabled webhook shows no waiting notice');

    // Disabled, it keeps them, and says so.
    await card.getByRole('button', { name: 'Disable Mailer' }).click();
    const waiting = card.locator('[data-waiting]');
    await waiting.waitFor();
    assert.match(await waiting.innerText(), /3 deliveries waiting — sent when the webhook is enabled again/);
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, '14-waiting-deliveries');

    // Discarding asks first; Escape keeps them.
    const discard = card.getByRole('button', { name: 'Discard waiting deliveries of Mailer' });
    await discard.click();
    const confirm = page.getByRole('dialog', { name: 'Discard the deliveries waiting for “Mailer”?' });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /The 3 deliveries waiting for this webhook to be enabled again will be marked failed and never sent/);
    await expectFocus(page, (f) => f.text === 'Cancel', 'the safe answer has focus');
    await screenshot(page, '15-confirm-discard');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    await expectFocus(page, (f) => /Discard waiting deliveries of Mailer/.test(f.text), 'focus returns to the discard button');
    const pending = async () => (await plugin.store.listDeliveries('acme', stored.id, { status: 'pending', limit: 10 })).length;
    assert.equal(await pending(), 3);

    await discard.click();
    await confirm.getByRole('button', { name: 'Discard deliveries' }).click();
    await page.getByRole('status').filter({ hasText: 'Discarded 3 waiting deliveries of Mailer.' }).waitFor();
    await waiting.waitFor({ state: 'detached' });
    assert.equal(await pending(), 0);
    const discarded = await plugin.store.listDeliveries('acme', stored.id, { limit: 10 });
    assert.deepEqual(discarded.map((d) => [d.status, d.lastOutcome]), Array(3).fill(['failed', 'discarded']));
    await expectFocus(page, (f) => /Enable Mailer/.test(f.text), 'focus moves to the webhook\'s next action');
    assert.deepEqual(watch.problems, []);
  });

  it('saves the delivery order: per subject on create, shown on the card, back to any order on edit', async () => {
    const page = await signedInPage();
    const watch = watchPage(page);
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('button', { name: '+ Create webhook' }).click();
    await page.getByLabel('Webhook name *').fill('Provisioning');
    await page.getByRole('checkbox', { name: /^USER_\*/ }).check();
    await page.getByLabel('URL *').fill(`${receiver.url}/provisioning`);

    const order = page.getByLabel('Delivery order');
    assert.equal(await order.inputValue(), 'none', 'any order by default');
    assert.match(String(await order.getAttribute('aria-describedby')), /ordering-hint/);
    assert.match(await page.locator('#ordering-hint').innerText(), /succeeded or finally failed/);
    await order.selectOption({ label: 'Per subject (user, role...) in order' });
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/webhooks')).then((r) => r.postDataJSON());
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    assert.equal((await posted).ordering, 'per_subject');
    await page.getByRole('dialog', { name: /copy its signing secret/ }).waitFor();
    await page.keyboard.press('Escape');
    const [stored] = await hooksOfAcme();
    assert.equal(stored.ordering, 'per_subject');
    const card = page.locator(`li[data-id="${stored.id}"]`);
    await card.getByText('In order per subject').waitFor();

    await card.getByRole('button', { name: 'Edit Provisioning' }).click();
    assert.equal(await order.inputValue(), 'per_subject', 'the form opens on the stored order');
    await order.selectOption('none');
    const patched = page.waitForRequest((r) => r.method() === 'PATCH').then((r) => r.postDataJSON());
    await page.getByRole('button', { name: 'Save changes' }).click();
    assert.deepEqual(await patched, { ordering: 'none' });
    await card.getByRole('heading', { name: 'Provisioning' }).waitFor();
    assert.equal((await plugin.store.findWebhook('acme', stored.id))?.ordering, 'none');
    assert.doesNotMatch(await card.innerText(), /Delivery order/);
    assert.deepEqual(watch.problems, []);
  });

  it('creates an Ed25519 webhook, shows its public key with a copy button, and switches it to HMAC only after asking', async () => {
    const page = await signedInPage();
    const watch = watchPage(page);
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('button', { name: '+ Create webhook' }).click();
    await page.getByLabel('Webhook name *').fill('Ledger');
    await page.getByRole('checkbox', { name: /^USER_\*/ }).check();
    await page.getByLabel('URL *').fill(`${receiver.url}/ledger`);
    const scheme = page.getByLabel('Signature scheme');
    assert.equal(await scheme.inputValue(), 'hmac-sha256', 'HMAC is the default');
    await scheme.selectOption('ed25519');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/webhooks')).then((r) => r.postDataJSON());
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    assert.equal((await posted).signature_scheme, 'ed25519');

    // The public key, not a secret: shown with a copy button, and no "copy it now" warning.
    const created = page.getByRole('dialog', { name: 'Webhook created: its public key' });
    await created.waitFor();
    const [stored] = await hooksOfAcme();
    const view = await plugin.webhooks.get('acme', stored.id);
    assert.match(String(view.public_key), /^whpk_/);
    assert.equal(await created.getByLabel('Public key').inputValue(), view.public_key);
    assert.equal(await created.getByText('it will not be shown again').count(), 0);
    await created.getByRole('button', { name: 'Copy public key' }).click();
    await created.getByText('Public key copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), view.public_key);
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, '17-ed25519-created');
    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'hidden' });

    // The card shows it too, any time, with its own copy button; deliveries verify against it.
    const card = page.locator(`li[data-id="${stored.id}"]`);
    assert.equal(await card.getByLabel('Public key of Ledger').inputValue(), view.public_key);
    await card.getByRole('button', { name: 'Copy public key of Ledger' }).click();
    await card.getByText('Public key copied to the clipboard.').waitFor();
    await card.getByRole('button', { name: 'Send test Ledger' }).click();
    await card.locator('[data-test-result="success"]').waitFor();
    const sent = receiver.requests.at(-1)!;
    const [version, signature] = String(sent.headers['webhook-signature']).split(',');
    assert.equal(version, 'v1a');
    const x = Buffer.from(view.public_key!.slice('whpk_'.length), 'base64').toString('base64url');
    const content = Buffer.from(`${sent.headers['webhook-id']}.${sent.headers['webhook-timestamp']}.${sent.body}`);
    assert.ok(edVerify(null, content, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), Buffer.from(signature, 'base64')));
    await screenshot(page, '18-ed25519-card');

    // A rotation makes a new key pair: the dialog and the card show the new public key.
    await card.getByRole('button', { name: 'Rotate secret Ledger' }).click();
    await page.getByRole('dialog', { name: /Rotate the signing secret/ }).getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = page.getByRole('dialog', { name: 'New signing key: its public key' });
    await rotated.getByText('The previous key keeps signing until').waitFor();
    const newKey = await rotated.getByLabel('Public key').inputValue();
    assert.notEqual(newKey, view.public_key);
    assert.equal(newKey, (await plugin.webhooks.get('acme', stored.id)).public_key);
    await rotated.getByRole('button', { name: 'Done' }).click();
    assert.equal(await card.getByLabel('Public key of Ledger').inputValue(), newKey);

    // Switching the scheme of a saved webhook asks first; Escape keeps everything as it was.
    const patches: unknown[] = [];
    page.on('request', (r) => { if (r.method() === 'PATCH') patches.push(r.postDataJSON()); });
    await card.getByRole('button', { name: 'Edit Ledger' }).click();
    await scheme.selectOption('hmac-sha256');
    await page.getByText('Saving makes new keys').waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const ask = page.getByRole('dialog', { name: 'Switch to HMAC-SHA256 (shared secret) signatures?' });
    await ask.waitFor();
    await page.keyboard.press('Escape');
    await ask.waitFor({ state: 'hidden' });
    assert.deepEqual(patches, [], 'nothing was sent');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await ask.getByRole('button', { name: 'Make new keys and save' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'New signing secret' });
    await secretDialog.waitFor();
    assert.deepEqual(patches, [{ signature_scheme: 'hmac-sha256' }]);
    assert.match(await page.locator('#secret').inputValue(), /^whsec_/);
    await secretDialog.getByRole('button', { name: 'I have saved the secret' }).click();
    await card.getByText('HMAC-SHA256 (v1), shared secret').waitFor();
    assert.equal((await plugin.webhooks.get('acme', stored.id)).public_key, null);
    assert.deepEqual(watch.problems, []);
  });

  it('warns before a change of host clears stored credentials, and says what the save cleared', async () => {
    const other = await new TestReceiver().start();
    try {
      const { webhook } = await plugin.webhooks.create({
        name: 'CRM', url: `${receiver.url}/crm`, events: ['USER_*'], api_key: { header: 'x-crm-key', value: 'api-key-0123456789abcdef' },
        authorization: 'Bearer token-0123456789abcdef', headers: { 'x-tenant': 'acme-tenant-header-value' },
      }, acme());
      const page = await signedInPage();
      const watch = watchPage(page);
      await page.goto(`${origin}${API}/ui/`);
      await page.getByRole('button', { name: 'Edit CRM' }).click();
      const url = page.getByLabel('URL *');
      const notice = page.locator('#url-origin-notice');
      assert.equal(await notice.innerText(), '', 'no notice while the URL keeps its host');
      await url.fill(`${other.url}/hook`);
      await notice.getByText('Changing the host clears the stored API key, authorization and custom headers — enter them again to keep them.').waitFor();
      assert.match(String(await url.getAttribute('aria-describedby')), /url-origin-notice/);
      await screenshot(page, '19-origin-notice');
      // Another path on the same host keeps them: no notice.
      await url.fill(`${receiver.url}/crm/v2`);
      await eventually(async () => (await notice.innerText()) === '');
      // Entering one again takes it off the list.
      await url.fill(`${other.url}/hook`);
      await page.getByLabel('API key', { exact: true }).fill('api-key-0123456789abcdef');
      await notice.getByText('Changing the host clears the stored authorization and custom headers — enter them again to keep them.').waitFor();
      assert.deepEqual(await unnamedControls(page), []);

      const patched = page.waitForRequest((r) => r.method() === 'PATCH').then((r) => r.postDataJSON());
      await page.getByRole('button', { name: 'Save changes' }).click();
      assert.deepEqual(await patched, { url: `${other.url}/hook`, api_key: { value: 'api-key-0123456789abcdef' } });
      await page.getByRole('status').filter({
        hasText: 'Saved CRM. The URL\'s host changed, so the stored authorization and custom headers were cleared and the new host does not get them.',
      }).waitFor();
      const saved = await plugin.webhooks.get('acme', webhook.id);
      assert.deepEqual([saved.api_key, saved.authorization, saved.headers], [{ header: 'x-crm-key', value: '****cdef' }, null, {}]);

      const card = page.locator(`li[data-id="${webhook.id}"]`);
      await card.getByRole('button', { name: 'Send test CRM' }).click();
      await card.locator('[data-test-result="success"]').waitFor();
      const sent = other.requests.at(-1)!.headers;
      assert.deepEqual([sent['x-crm-key'], sent.authorization, sent['x-tenant']], ['api-key-0123456789abcdef', undefined, undefined]);
      assert.deepEqual(watch.problems, []);
    } finally {
      await other.stop();
    }
  });

  it('says, as information, that a delivery being sent right now cannot be resent', async () => {
    const { webhook } = await plugin.webhooks.create({ name: 'Busy', url: `${receiver.url}/busy`, events: ['USER_*'] }, acme());
    // A delivery another worker is sending right now: recorded with its lease, as a claim leaves it.
    const now = new Date();
    const lease = new Date(now.getTime() + 60_000);
    const event = eventRecord({ tenantId: 'acme', createdAt: now });
    const [record] = (await plugin.store.findWebhooksByIds([webhook.id]));
    const delivery = deliveryRecord(event, record, { leaseOwner: 'worker-elsewhere', leaseExpiresAt: lease, nextAttemptAt: lease });
    await plugin.store.recordEvent(event, [delivery]);

    const page = await signedInPage();
    const watch = watchPage(page);
    watch.expect({ method: 'POST', path: /\/deliveries\/[^/]+\/retry$/, status: 409 });
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('button', { name: 'Delivery log Busy' }).click();
    const row = page.locator(`tr[data-delivery="${delivery.id}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: /^Resend/ }).click();
    const notice = page.locator('.live .notice').filter({ hasText: 'This delivery is being sent right now; its result appears in the log shortly' });
    await notice.waitFor();
    assert.doesNotMatch(String(await notice.getAttribute('class')), /\b(error|success)\b/, 'neither a success nor a failure');
    assert.doesNotMatch(await page.locator('.live').innerText(), /Could not resend|queued/);
    assert.match(await row.innerText(), /Pending/);
    const held = await plugin.store.findDelivery('acme', delivery.id);
    assert.deepEqual([held?.leaseOwner, held?.attempts], ['worker-elsewhere', 0], 'the attempt in flight was left alone');
    assert.equal(receiver.requests.length, 0, 'nothing was sent twice');
    await screenshot(page, '16-resend-in-flight');
    assert.deepEqual(watch.problems, []);
  });

  it('fits a 375 px phone screen without sideways scrolling', async () => {
    await plugin.webhooks.create({
      name: 'Billing with a rather long name for a phone', url: `${receiver.url}/a/very/long/path/that/must/wrap/on/small/screens?with=query`,
      events: ['USER_*', 'ROLE_*', 'MFA_VERIFIED', 'USER_LOGIN_FAILURE', 'GROUP_*', 'APP_*', 'TENANT_CREATED'],
    }, acme());
    await plugin.webhooks.create({ name: 'Audit', url: `${receiver.url}/audit`, events: ['*'], enabled: false }, acme());
    const page = await signedInPage({ width: 375, height: 812 });
    const watch = watchPage(page);
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.getByRole('button', { name: 'Send test Billing with a rather long name for a phone' }).click();
    await page.locator('[data-test-result="success"]').waitFor();
    await eventually(async () => !(await page.getByText('Loading…').count()));
    assert.equal(await horizontalOverflow(page), 0, 'the list does not scroll sideways');
    await screenshot(page, '10-narrow-list');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, '10-narrow-list-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.getByRole('button', { name: 'Delivery log Billing with a rather long name for a phone' }).click();
    await page.locator('tbody tr').first().waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'the delivery log does not scroll sideways');
    await screenshot(page, '11-narrow-delivery-log');
    await page.getByRole('button', { name: '← Back to webhooks' }).click();

    await page.getByRole('button', { name: 'Edit Billing with a rather long name for a phone' }).click();
    await page.getByRole('button', { name: '+ Add header' }).click();
    await page.getByText('USER', { exact: true }).click();
    assert.equal(await horizontalOverflow(page), 0, 'the form does not scroll sideways');
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, '12-narrow-form');
    assert.deepEqual(watch.problems, []);
  });

  it('asks a signed-out visitor to sign in, and works with a bearer token attribute', async () => {
    const page = await signedInPage(undefined, false);
    const watch = watchPage(page);
    watch.expect({ method: 'GET', path: /\/(webhooks|event-types)$/, status: 401 });
    await page.goto(`${origin}${API}/ui/`);
    await page.getByRole('heading', { name: 'Sign in to manage webhooks' }).waitFor();
    await screenshot(page, '13-signed-out');
    await page.locator('webhook-settings').evaluate((el) => el.setAttribute('token', 'token-acme-admin'));
    await page.getByRole('heading', { name: 'No webhooks yet — create one' }).waitFor();
    assert.deepEqual(watch.problems, []);
  });

  it('serves the bundle and page with a strict CSP, and needs no inline code', async () => {
    const page = await signedInPage();
    const watch = watchPage(page);
    const response = await page.goto(`${origin}${API}/ui/`);
    assert.match(String(response?.headers()['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
    await page.getByRole('heading', { name: 'No webhooks yet — create one' }).waitFor();
    const inline = await page.evaluate(() => document.querySelectorAll('script:not([src]), style, [style]').length);
    assert.equal(inline, 0);
    // Keyboard only: Tab reaches the create button first, Enter opens the form.
    await page.keyboard.press('Tab');
    await expectFocus(page, (f) => f.text === '+ Create webhook');
    await page.keyboard.press('Enter');
    await expectFocus(page, (f) => f.text === 'Create webhook', 'the form heading takes focus');
    await page.keyboard.press('Tab');
    await expectFocus(page, (f) => f.id === 'name', 'the first field follows');
    assert.deepEqual(watch.problems, [], 'no CSP violation or other error');
  });
});
