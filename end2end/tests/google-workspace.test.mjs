// Google Workspace cannot push SCIM to a custom app, so its directory is read from
// Google: the admin picks Google Workspace, pastes the service account's key file and the
// admin it reads as (a wrong admin is refused with Google's reason), and the first sync
// runs against the stand-in of Google's APIs (`end2end/google-stand-in.mjs`) and fills
// the directory: its runs show on the wizard's first-sync step and the dashboard, and the
// users Google lists are the dashboard's users.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  acceptSetupLink, baseUrl, expectAccessible, launchBrowser, screenshot, setupLinkFor, signedInOperator,
} from '../support.mjs';

const standIn = process.env.E2E_GOOGLE_STAND_IN ?? 'http://127.0.0.1:3999';
const keyFile = readFileSync(new URL('../fixtures/google-service-account.json', import.meta.url), 'utf8');
const workspaceAdmin = 'it-admin@aperture.example';

function googleUser(id, email, given, family, suspended = false) {
  return {
    kind: 'admin#directory#user', id, primaryEmail: email, suspended, archived: false,
    name: { givenName: given, familyName: family, fullName: `${given} ${family}` },
    emails: [{ address: email, primary: true }],
    organizations: [{ title: 'Scientist', department: 'Research', primary: true }],
  };
}

let browser;
let operatorPage;
before(async () => {
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
  const directory = {
    admin: workspaceAdmin,
    users: [
      googleUser('201', 'cave@aperture.example', 'Cave', 'Johnson'),
      googleUser('202', 'caroline@aperture.example', 'Caroline', 'Mills'),
      googleUser('203', 'doug@aperture.example', 'Doug', 'Rattmann', true),
    ],
    groups: [{
      group: { kind: 'admin#directory#group', id: 'g-research', email: 'research@aperture.example', name: 'Research' },
      members: [
        { kind: 'admin#directory#member', id: '201', email: 'cave@aperture.example', role: 'OWNER', type: 'USER', status: 'ACTIVE' },
        { kind: 'admin#directory#member', id: '202', email: 'caroline@aperture.example', role: 'MEMBER', type: 'USER', status: 'ACTIVE' },
      ],
    }],
  };
  const response = await fetch(`${standIn}/_stand-in/directory`, { method: 'PUT', body: JSON.stringify(directory) });
  assert.equal(response.status, 200);
});
after(async () => {
  await browser?.close();
});

test('an admin connects Google Workspace with a service account and the first sync fills the directory', async () => {
  const link = await setupLinkFor(operatorPage, 'aperture');
  const page = await acceptSetupLink(browser, link, 'it@aperture.example', false);
  await page.click('#connect-idp');
  await page.waitForURL(`${baseUrl}/admin/connect`);
  await page.check('#idp-google');
  await page.click('#choose-idp');
  await page.waitForURL(/\/setup\/endpoint$/, { timeout: 10_000 });

  // Step 2 is the connection, with Google's instructions and their source.
  await page.waitForSelector('#google-connect');
  const instructions = await page.textContent('#idp-instructions');
  assert.match(instructions, /cannot push users/);
  assert.match(instructions, /admin\.directory\.group\.member\.readonly/);
  assert.match(await page.textContent('#guide-source'), /domain-wide delegation/);
  await expectAccessible(page, 'the Google connection step');
  await screenshot(page, 'google-step-2-connect');

  // An admin the service account may not act as: Google's reason, nothing stored.
  await page.fill('#google-key-file', keyFile);
  await page.fill('#google-admin-email', 'someone-else@aperture.example');
  await page.click('#google-connect-submit');
  await page.waitForSelector('#google-connect-result >> text=unauthorized_client', { timeout: 15_000 });
  await expectAccessible(page, 'the refused connection');

  // The refused form came back empty: the key file is a secret, never put back in a page.
  assert.equal(await page.inputValue('#google-key-file'), '');
  await page.fill('#google-key-file', keyFile);
  await page.fill('#google-admin-email', workspaceAdmin);
  await page.click('#google-connect-submit');
  await page.waitForSelector('#google-connected', { timeout: 15_000 });
  const connected = await page.textContent('#google-connected');
  assert.match(connected, /Connected as directory-sync@scim-portal-tests\.iam\.gserviceaccount\.com/);
  assert.match(connected, /cave@aperture\.example/);
  // The panel shows the client id to authorise, and the first sync once it has run (the
  // scheduler looks every 10 seconds; the page reads again while one is due).
  await page.waitForSelector('#google-client-id >> text=100000000000000000001', { timeout: 10_000 });
  await page.waitForSelector('#google-runs >> text=Succeeded', { timeout: 45_000 });
  assert.match(await page.textContent('#google-runs'), /3 users created, 1 group created/);
  await screenshot(page, 'google-step-2-connected');
  await expectAccessible(page, 'the connected Google step');

  await page.click('#next-step');
  await page.waitForURL(/\/setup\/token$/);
  await page.waitForSelector('#google-runs', { timeout: 10_000 });
  assert.match(await page.textContent('#google-runs'), /First sync/);
  assert.match(await page.textContent('#idp-instructions'), /Google Workspace connector/);
  await expectAccessible(page, 'the first-sync step');

  // The dashboard: Google's people, the suspended one deactivated, and "Sync now".
  const directory = page.url().split('/')[5];
  await page.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#users-table', { timeout: 10_000 });
  const users = await page.textContent('#users-table');
  for (const email of ['cave@aperture.example', 'caroline@aperture.example', 'doug@aperture.example']) {
    assert.match(users, new RegExp(email.replace('.', '\\.')));
  }
  assert.match(await page.locator('#users-table tr', { hasText: 'doug@aperture.example' }).textContent(), /Deactivated/);
  await page.click('#google-sync-now');
  await page.waitForFunction(
    () => document.querySelectorAll('#google-runs li').length >= 2,
    null,
    { timeout: 45_000 },
  );
  assert.match(await page.locator('#google-runs li').first().textContent(), /Asked for by it@aperture\.example[\s\S]*No changes: read 3 users and 1 group/);
  await screenshot(page, 'google-dashboard');
  await expectAccessible(page, 'the dashboard of a Google directory');
  assert.deepEqual(page.errors, [], 'the console logged errors');
  await page.close();
});
