// Roles from groups: the operator defines two roles in the console; a tenant admin whose
// identity provider has provisioned a group grants one of them to it on the directory's
// Roles page, sees how many users would get each role before saving, saves, and watches
// the re-derivation of the directory's users finish. The roles are deleted at the end
// (after the confirmation), so that the wizard tests of other files see no roles step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, scim, screenshot, setupLinkFor,
  signedInOperator,
} from '../support.mjs';

let browser;
let operatorPage;
before(async () => {
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
});
after(async () => {
  await browser?.close();
});


async function addRole(page, { slug, name, precedence, isDefault }) {
  await page.fill('#role-slug', slug);
  await page.fill('#role-name', name);
  await page.fill('#role-description', `${name}s of the product`);
  await page.fill('#role-precedence', String(precedence));
  if (isDefault) await page.check('#role-default');
  await page.click('#save-role');
  await page.waitForSelector(`#roles-table tr[data-role="${slug}"]`, { timeout: 10_000 });
}


test('an operator defines roles; an admin grants one to a group, previews, saves and sees the users updated', async () => {
  const operator = operatorPage;
  await operator.goto(`${baseUrl}/roles`, { waitUntil: 'networkidle' });
  await operator.waitForSelector('#no-roles');
  await operator.fill('#role-slug', 'Not A Slug');
  await operator.fill('#role-name', 'Broken');
  await operator.click('#save-role');
  await operator.waitForSelector('#role-error', { timeout: 10_000 });
  assert.match(await operator.textContent('#role-error'), /The slug must be 1 to 64 lower-case letters/);
  // A plain form: the refusal comes back as the page, in words, not as a failed request.
  assert.deepEqual(operator.errors, []);
  await addRole(operator, { slug: 'admin', name: 'Administrator', precedence: 1, isDefault: false });
  await addRole(operator, { slug: 'viewer', name: 'Viewer', precedence: 2, isDefault: true });
  await screenshot(operator, 'roles-console');
  await expectAccessible(operator, 'the console roles page');

  const admin = await acceptSetupLink(browser, await setupLinkFor(operator, 'oscorp'), 'it@oscorp.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();
  const users = [];
  for (const userName of ['norman@oscorp.example', 'harry@oscorp.example']) {
    const created = await scim('POST', `${scimBase}/Users`, token, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true,
    });
    assert.equal(created.status, 201, created.body);
    users.push(JSON.parse(created.body).id);
  }
  const group = await scim('POST', `${scimBase}/Groups`, token, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: users[0] }],
  });
  assert.equal(group.status, 201, group.body);
  // The token step reads its feed on each request: let it settle before leaving the page.
  await admin.waitForSelector('#connected', { timeout: 15_000 });
  await admin.waitForLoadState('networkidle');

  await admin.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await admin.click('#manage-roles');
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/roles`);
  await admin.waitForSelector('#group-roles', { timeout: 10_000 });
  const count = (slug) => admin.textContent(`#role-preview [data-role="${slug}"] dd`);
  await admin.waitForSelector('#role-preview');
  assert.equal(await count('admin'), '0 users');
  assert.equal(await count('viewer'), '2 users');
  assert.match(await admin.textContent('tr[data-group="Engineering"]'), /Engineering\s*1/);

  await admin.check('tr[data-group="Engineering"] input[data-role="admin"]');
  // Preview asks for the page again with the boxes as ticked; nothing is saved.
  await admin.click('#preview-group-roles');
  await admin.waitForURL(/[?&]preview=1/);
  assert.equal(await admin.isChecked('tr[data-group="Engineering"] input[data-role="admin"]'), true);
  await admin.waitForFunction(
    () => document.querySelector('#role-preview [data-role="admin"] dd')?.textContent === '1 user',
    null,
    { timeout: 10_000 },
  );
  assert.equal(await count('viewer'), '1 user');
  assert.match(await admin.textContent('#role-preview-heading'), /not saved yet/);
  await screenshot(admin, 'roles-grant-preview');
  await expectAccessible(admin, 'the roles page with an unsaved grant');

  await admin.click('#save-group-roles');
  await admin.waitForSelector('#group-roles-saved', { timeout: 10_000 });
  // The server's worker re-derives the directory's users within seconds.
  await admin.waitForSelector('#republish-progress[data-finished="true"]', { timeout: 20_000 });
  assert.match(await admin.textContent('#republish-progress'), /2 checked, 1 changed/);
  await screenshot(admin, 'roles-saved-progress');
  assert.deepEqual(admin.errors, [], 'the roles page logged errors');

  // The operator deletes both roles again, each after confirming.
  for (const slug of ['admin', 'viewer']) {
    await operator.goto(`${baseUrl}/roles`, { waitUntil: 'networkidle' });
    await operator.click(`#roles-table tr[data-role="${slug}"] .delete-role`);
    await operator.click(`#roles-table tr[data-role="${slug}"] button:has-text("Delete role")`);
    await operator.waitForSelector(`#roles-table tr[data-role="${slug}"]`, { state: 'detached', timeout: 10_000 });
  }
  await operator.waitForSelector('#no-roles');
  assert.deepEqual(operator.errors, [], 'the console logged errors');
});
