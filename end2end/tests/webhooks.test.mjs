// A tenant admin registers a webhook to a receiver that answers 500: the signing secret is
// shown once, the failed attempts appear in the delivery log with their status; the
// operator looks at the tenant's webhooks from the console, and the admin sees that look
// in the audit trail. (Dead letters take about 4.5 hours of retries with the server's
// delivery settings, so their replay is covered by the HTTP tests, not here.)
// Needs a server that delivers to internal addresses (WEBHOOKS_ALLOW_INTERNAL_TARGETS,
// which the xtask sets for the browser tests).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, screenshot, setupLinkFor,
  signedInOperator,
} from '../support.mjs';

let browser;
let operatorPage;
let receiver;
const received = [];
before(async () => {
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
  // A receiver on this machine that refuses every event.
  receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(500).end('not today');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await browser?.close();
  receiver?.close();
});


async function until(condition, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('an admin registers a webhook and reads its failed deliveries; the operator look is recorded', async () => {
  const admin = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'wayne'), 'it@wayne.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;

  await admin.goto(`${baseUrl}/admin/webhooks`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#no-webhooks', { timeout: 10_000 });
  await expectAccessible(admin, 'the webhooks page');
  await admin.fill('#webhook-url', 'ftp://example.com/hook');
  await admin.click('#create-webhook');
  await admin.waitForSelector('#webhook-error', { timeout: 10_000 });
  assert.match(await admin.textContent('#webhook-error'), /must be an https:\/\/ \(or http:\/\/\) URL/);
  // A plain form: the refusal comes back as the page, with what was typed.
  assert.equal(await admin.inputValue('#webhook-url'), 'ftp://example.com/hook');
  assert.deepEqual(admin.errors, []);
  await admin.fill('#webhook-url', url);
  await admin.click('#create-webhook');
  await admin.waitForSelector('#webhook-secret', { timeout: 10_000 });
  assert.match(await admin.inputValue('#webhook-secret'), /^whsec_/);
  await screenshot(admin, 'webhook-registered');

  const created = await fetch(`${scimBase}/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bruce@wayne.example' }),
  });
  assert.equal(created.status, 201);
  await until(() => received.length > 0, 'the first delivery attempt');
  assert.match(received[0].headers['scim-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);

  await admin.reload({ waitUntil: 'networkidle' });
  await admin.waitForSelector('#webhooks-table', { timeout: 10_000 });
  assert.match(await admin.textContent('#webhooks-table'), /1 event held back \(1 user or group failing\)/);
  await admin.click('#webhooks-table .open-delivery-log');
  await admin.waitForSelector('#attempts-table tr[data-outcome="failed"]', { timeout: 10_000 });
  const attempt = await admin.textContent('#attempts-table tr[data-outcome="failed"]');
  assert.match(attempt, /Failed/);
  assert.match(attempt, /500/);
  assert.match(await admin.textContent('#dead-letters'), /No dead letters/);
  await screenshot(admin, 'webhook-delivery-log');
  await expectAccessible(admin, 'the delivery log');
  assert.deepEqual(admin.errors, [], 'the webhooks page logged errors');

  // The operator looks at the tenant's webhooks from the console.
  await operatorPage.goto(`${baseUrl}/tenants/wayne`, { waitUntil: 'networkidle' });
  await operatorPage.click('#show-webhooks');
  await operatorPage.waitForSelector('#webhooks-table', { timeout: 10_000 });
  await operatorPage.click('#webhooks-table .open-delivery-log');
  await operatorPage.waitForSelector('#attempts-table', { timeout: 10_000 });
  assert.equal(await operatorPage.locator('#dead-letters button.replay').count(), 0, 'staff cannot replay');
  await expectAccessible(operatorPage, "the console's webhooks");
  assert.deepEqual(operatorPage.errors, [], 'the console logged errors');

  // The admin sees that look in the audit trail.
  await admin.goto(`${baseUrl}/admin/audit`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#audit-table', { timeout: 10_000 });
  // The delivery log's page shows the endpoints too: both views are recorded, the log's
  // among them.
  const viewed = admin.locator('#audit-table tr', { hasText: 'support.viewed_webhooks' }).filter({ hasText: 'webhook delivery log' }).first();
  await viewed.waitFor({ timeout: 10_000 });
  assert.match(await viewed.textContent(), /operator@e2e\.example/);
});
