import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { buildAdminUi } from '../../admin-ui/build.js';
import { ADMIN_UI_CSP, createAdminUiRouter } from '../../plugin/admin/admin-ui-assets.js';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { createAdminHost } from '../support/admin-host.js';
import { startTestPlugin } from '../support/plugin-fixture.js';

const UI = '/admin/webhooks/api/ui';

describe('admin UI assets', function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let app: express.Express;

  before(async () => {
    await buildAdminUi();
  });
  beforeEach(async () => {
    ({ plugin } = await startTestPlugin());
    app = createAdminHost(plugin);
  });
  afterEach(async () => {
    await plugin.stop();
  });

  it('serves a standalone page, without signing in, that mounts the element on this API', async () => {
    for (const path of [`${UI}/`, UI]) {
      const res = await request(app).get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers['content-type'], /^text\/html/);
      assert.equal(res.headers['content-security-policy'], ADMIN_UI_CSP);
      assert.match(ADMIN_UI_CSP, /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(res.text, /<webhook-settings api-base="\/admin\/webhooks\/api" heading-level="1">/);
      assert.match(res.text, /<script type="module" src="\/admin\/webhooks\/api\/ui\/webhook-settings\.js\?v=[A-Za-z0-9_-]{16}"><\/script>/);
      assert.ok(!/<script>|<style>|style=/.test(res.text), 'nothing inline');
    }
  });

  it('serves the bundle as JavaScript, cached for a year under its versioned URL, revalidated otherwise', async () => {
    const page = await request(app).get(`${UI}/`);
    const version = /webhook-settings\.js\?v=([A-Za-z0-9_-]+)/.exec(page.text)![1];
    const versioned = await request(app).get(`${UI}/webhook-settings.js?v=${version}`);
    assert.equal(versioned.status, 200);
    assert.equal(versioned.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(versioned.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(versioned.text ?? versioned.body), /webhook-settings/);
    const plain = await request(app).get(`${UI}/webhook-settings.js`);
    assert.equal(plain.headers['cache-control'], 'no-cache');
    const again = await request(app).get(`${UI}/webhook-settings.js`).set('if-none-match', plain.headers.etag);
    assert.equal(again.status, 304);
    const css = await request(app).get(`${UI}/page.css`);
    assert.match(css.headers['content-type'], /^text\/css/);
  });

  it('leaves the API behind authentication and answers unknown UI paths like the API does', async () => {
    assert.equal((await request(app).get('/admin/webhooks/api/webhooks')).status, 401);
    assert.equal((await request(app).get(`${UI}/secrets.json`)).status, 401);
  });

  it('answers 503 with the command to run when the bundle has not been built', async () => {
    const bare = express().use('/ui', createAdminUiRouter({ bundlePath: '/nonexistent/webhook-settings.js' }));
    for (const path of ['/ui/', '/ui/webhook-settings.js']) {
      const res = await request(bare).get(path);
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'ui_not_built');
      assert.match(res.body.error.message, /npm run build:ui/);
    }
  });

  it('can be turned off', async () => {
    const off = createAdminHost(plugin, { ui: false });
    assert.equal((await request(off).get(`${UI}/`)).status, 401);
  });
});
