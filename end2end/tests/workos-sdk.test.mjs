// The vendor's product, written against the official WorkOS Node SDK (unmodified, pinned in
// package-lock.json), reads this deployment by pointing the SDK at it: an identity provider
// provisions users with enterprise attributes, a group and a deactivation over plain SCIM;
// the SDK lists and reads organizations, directories, users (with auto-pagination, by
// directory and by group) and groups, and sees the tenant's mapping as custom attributes.
// Last, a directory is deleted with deleteDirectory, and its activation and deletion are read
// as dsync.activated and dsync.deleted.
// Needs an operator API key of the server under test (E2E_API_KEY, which the xtask makes).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WorkOS, NotFoundException, UnauthorizedException } from '@workos-inc/node';
import { baseUrl } from '../support.mjs';

const apiKey = process.env.E2E_API_KEY ?? '';
const server = new URL(baseUrl);
const sdk = (key = apiKey) =>
  new WorkOS(key, { apiHostname: server.hostname, port: Number(server.port), https: false });
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const slug = `sdk-${Date.now().toString(36)}`;

// What the identity provider and the operator API need.
let scim;
const ids = {};

async function call(method, url, token, body) {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const provision = (method, path, body) => call(method, `${scim.base}${path}`, scim.token, body);

before(async () => {
  assert.ok(apiKey, 'E2E_API_KEY is not set');
  await call('POST', `${baseUrl}/api/v1/tenants`, apiKey, { slug, display_name: 'SDK Corp' });
  const created = await call('POST', `${baseUrl}/api/v1/tenants/${slug}/directories`, apiKey, { idp: 'okta' });
  scim = { base: created.directory.scim_base_url, token: created.token, directory: created.directory.id };
  // Twelve people, more than the SDK's first page of ten.
  for (let n = 0; n < 12; n += 1) {
    const user = await provision('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
      userName: `person${n}@sdk.example`,
      externalId: `okta-${n}`,
      name: { givenName: `Person${n}`, familyName: 'Example' },
      title: n === 0 ? 'Founder' : 'Engineer',
      emails: [{ value: `person${n}@sdk.example`, type: 'work', primary: true }],
      active: true,
      [ENTERPRISE]: { department: n % 2 === 0 ? 'Engineering' : 'Sales', employeeNumber: `E${n}` },
    });
    ids[n] = user.id;
  }
  ids.admins = (await provision('POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'Admins',
    members: [{ value: ids[0] }, { value: ids[1] }],
  })).id;
  await provision('PATCH', `/Users/${ids[1]}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'active', value: false }],
  });
});

test('the SDK finds the tenant as an organization and its directory', async () => {
  const workos = sdk();
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  assert.equal(organization.name, 'SDK Corp');
  assert.deepEqual(organization.domains, []);
  const all = await (await workos.organizations.listOrganizations()).autoPagination();
  assert.ok(all.some((org) => org.id === organization.id), 'listed among all organizations');

  const directories = await workos.directorySync.listDirectories({ organizationId: organization.id });
  assert.equal(directories.data.length, 1);
  const [directory] = directories.data;
  assert.equal(directory.type, 'okta scim v2.0');
  assert.equal(directory.organizationId, organization.id);
  assert.equal(directory.state, 'inactive', 'its setup is not complete: unlinked');
  assert.deepEqual(directory.metadata, { users: { active: 11, inactive: 1 }, groups: 1 });
  const again = await workos.directorySync.getDirectory({ id: directory.id });
  assert.equal(again.name, directory.name);
  assert.ok(again.createdAt instanceof Date && !Number.isNaN(again.createdAt.getTime()));
});

test('the SDK pages through every user with the mapping applied', async () => {
  const workos = sdk();
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  const [directory] = (await workos.directorySync.listDirectories({ organizationId: organization.id })).data;
  const firstPage = await workos.directorySync.listDirectoryUsers({ directoryId: directory.id });
  assert.equal(firstPage.data.length, 10, 'the default page');
  assert.ok(firstPage.listMetadata.after, 'more follow');
  const users = await firstPage.autoPagination();
  const emails = users.map((user) => user.email);
  assert.equal(users.length, 12);
  assert.equal(new Set(emails).size, 12, 'no user twice');
  assert.equal(emails[0], 'person11@sdk.example', 'newest first, the SDK default');

  const founder = users.find((user) => user.idpId === 'okta-0');
  assert.equal(founder.firstName, 'Person0');
  assert.equal(founder.lastName, 'Example');
  assert.equal(founder.state, 'active');
  assert.deepEqual(founder.customAttributes, {
    job_title: 'Founder', department: 'Engineering', employee_number: 'E0',
  });
  assert.equal(founder.rawAttributes[ENTERPRISE].department, 'Engineering');
  const deactivated = users.find((user) => user.idpId === 'okta-1');
  assert.equal(deactivated.state, 'inactive');
});

test('the SDK reads groups and their members, and users with their groups', async () => {
  const workos = sdk();
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  const [directory] = (await workos.directorySync.listDirectories({ organizationId: organization.id })).data;
  const groups = await workos.directorySync.listGroups({ directory: directory.id });
  assert.deepEqual(groups.data.map((group) => group.name), ['Admins']);
  const [admins] = groups.data;
  assert.equal((await workos.directorySync.getGroup({ id: admins.id })).name, 'Admins');

  const members = await (await workos.directorySync.listUsers({ group: admins.id })).autoPagination();
  assert.deepEqual(members.map((user) => user.idpId).sort(), ['okta-0', 'okta-1']);
  for (const member of members) {
    assert.deepEqual(member.groups.map((group) => group.name), ['Admins']);
  }
  const user = await workos.directorySync.getUser({ id: members[0].id });
  assert.equal(user.groups[0].id, admins.id);
  const ofUser = await workos.directorySync.listDirectoryGroups({ directoryId: directory.id, user: user.id });
  assert.deepEqual(ofUser.data.map((group) => group.id), [admins.id]);
});

test('the SDK reads the events in order, page by page, with previous attributes', async () => {
  const workos = sdk();
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  const events = ['dsync.user.created', 'dsync.user.updated', 'dsync.group.created', 'dsync.group.user_added'];
  const seen = [];
  let after;
  for (;;) {
    const page = await workos.events.listEvents({ events, organizationId: organization.id, limit: 5, after });
    if (page.data.length === 0) break;
    seen.push(...page.data);
    after = page.data[page.data.length - 1].id;
  }
  assert.equal(new Set(seen.map((event) => event.id)).size, seen.length, 'no event twice');
  assert.deepEqual(
    seen.map((event) => event.event),
    [
      ...Array(12).fill('dsync.user.created'),
      'dsync.group.created',
      'dsync.group.user_added',
      'dsync.group.user_added',
      'dsync.user.updated',
    ],
  );
  assert.equal(seen[0].data.email, 'person0@sdk.example');
  assert.ok(seen[0].createdAt instanceof Date);
  assert.equal(seen[13].data.group.name, 'Admins');
  assert.equal(seen[13].data.user.idpId, 'okta-0');
  const deactivation = seen[15];
  assert.equal(deactivation.data.state, 'inactive');
  assert.deepEqual(deactivation.data.previousAttributes, { state: 'active' });
});

// Roles are the deployment's: this test makes a role no other test knows, and no default
// role (a default would change every tenant's users, and other tests' events with them).
test('users carry the roles their groups are granted, and the change reaches the events', async () => {
  const workos = sdk();
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  const [directory] = (await workos.directorySync.listDirectories({ organizationId: organization.id })).data;
  const role = `${slug}-admin`;
  await call('POST', `${baseUrl}/api/v1/roles`, apiKey, { slug: role, name: 'SDK admin', precedence: 1 });
  const grants = `${baseUrl}/api/v1/directories/${scim.directory}/group-roles`;
  const saved = await call('PUT', grants, apiKey, { grants: [{ group: ids.admins, role }] });
  assert.equal(saved.users_per_role[role], 2, 'both members of Admins');
  // The server re-derives the directory's users in the background, every second.
  let progress = saved.republish;
  for (let waited = 0; !progress?.finished && waited < 20000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    progress = (await call('GET', grants, apiKey)).republish;
  }
  assert.ok(progress?.finished, `the re-derivation finished: ${JSON.stringify(progress)}`);
  assert.equal(progress.changed, 2);

  const users = await (await workos.directorySync.listUsers({ directory: directory.id })).autoPagination();
  const founder = users.find((user) => user.idpId === 'okta-0');
  assert.deepEqual(founder.role, { slug: role });
  assert.equal(founder.roles[0].slug, role);
  const other = users.find((user) => user.idpId === 'okta-2');
  assert.ok(!other.roles.some((granted) => granted.slug === role), 'not a member of Admins');

  // On PostgreSQL an event is listed once every older transaction has ended: wait for both.
  let derived = [];
  for (let waited = 0; derived.length < 2 && waited < 20000; waited += 200) {
    if (waited > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    const updates = await workos.events.listEvents({
      events: ['dsync.user.updated'], organizationId: organization.id, limit: 100,
    });
    derived = updates.data.filter((event) => event.data.role?.slug === role);
  }
  assert.deepEqual(derived.map((event) => event.data.idpId).sort(), ['okta-0', 'okta-1']);
  for (const event of derived) {
    assert.ok(
      !event.data.previousAttributes.roles.some((granted) => granted.slug === role),
      'the previous roles lack the new one',
    );
  }
});

test('the SDK makes a webhook endpoint whose signed deliveries constructEvent verifies', async () => {
  const workos = sdk();
  const received = [];
  const receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const endpointUrl = `http://127.0.0.1:${receiver.address().port}/workos`;
    const endpoint = await workos.webhooks.createWebhookEndpoint({ endpointUrl, events: ['dsync.user.created'] });
    assert.equal(endpoint.status, 'enabled');
    assert.equal(endpoint.endpointUrl, endpointUrl);
    const listed = await workos.webhooks.listWebhookEndpoints();
    assert.ok(listed.data.some((item) => item.id === endpoint.id));

    await provision('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'late@sdk.example',
      emails: [{ value: 'late@sdk.example', type: 'work', primary: true }],
    });
    // The server delivers every second; other tests' tenants send their events too.
    const ours = () => received.find((delivery) => JSON.parse(delivery.body).data.email === 'late@sdk.example');
    for (let waited = 0; !ours() && waited < 15000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const delivery = ours();
    assert.ok(delivery, 'the new user reached the endpoint');
    const sigHeader = delivery.headers['workos-signature'];
    // Verified from the raw body and from the parsed object (as express.json() hands it).
    for (const payload of [delivery.body, JSON.parse(delivery.body)]) {
      const event = await workos.webhooks.constructEvent({ payload, sigHeader, secret: endpoint.secret });
      assert.equal(event.event, 'dsync.user.created');
      assert.equal(event.data.email, 'late@sdk.example');
    }
    const tampered = delivery.body.replace('late@sdk.example', 'evil@sdk.example');
    await assert.rejects(workos.webhooks.constructEvent({ payload: tampered, sigHeader, secret: endpoint.secret }));

    await workos.webhooks.deleteWebhookEndpoint({ id: endpoint.id });
    const after = await workos.webhooks.listWebhookEndpoints();
    assert.ok(!after.data.some((item) => item.id === endpoint.id));
  } finally {
    receiver.close();
  }
});

test('the SDK raises its own exceptions for unknown ids and a wrong key', async () => {
  await assert.rejects(
    sdk().directorySync.getDirectory({ id: 'directory_00000000000000000000000000000000' }),
    (error) => error instanceof NotFoundException,
  );
  await assert.rejects(
    sdk('scimk_not_a_key').organizations.listOrganizations(),
    (error) => error instanceof UnauthorizedException,
  );
});

// A portal server function called as the portal's own client does (form fields, JSON answer).
async function serverFunction(name, fields, cookie) {
  const response = await fetch(`${baseUrl}/api/${name}`, {
    method: 'POST',
    headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
  return response;
}

test('the SDK deletes a directory and reads its activation and its deletion as events', async () => {
  const workos = sdk();
  // A tenant of its own, whose identity provider creates a user with its token...
  const gone = `${slug}-gone`;
  await call('POST', `${baseUrl}/api/v1/tenants`, apiKey, { slug: gone, display_name: 'Gone Corp' });
  const created = await call('POST', `${baseUrl}/api/v1/tenants/${gone}/directories`, apiKey, { idp: 'okta' });
  const users = `${created.directory.scim_base_url}/Users`;
  await call('POST', users, created.token, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `first@${gone}.example`,
    active: true,
  });
  // ...which completes the setup as soon as the tenant's admin looks at the wizard's feed.
  const link = await call('POST', `${baseUrl}/api/v1/tenants/${gone}/setup-links`, apiKey, { valid_days: 1 });
  const password = 'correct horse battery staple';
  const accepted = await serverFunction('accept_setup_link', {
    secret: link.url.split('/').pop(),
    email: `it@${gone}.example`,
    password,
    password_again: password,
  });
  const cookie = accepted.headers
    .getSetCookie()
    .find((value) => value.startsWith('portal_session='))
    ?.split(';')[0];
  assert.ok(cookie, `no session after accepting the setup link (${accepted.status})`);
  const feed = await serverFunction('sync_feed', { directory: created.directory.id, after: '0' }, cookie);
  assert.equal(feed.status, 200, await feed.text());
  const organization = await workos.organizations.getOrganizationByExternalId(gone);
  const [directory] = (await workos.directorySync.listDirectories({ organizationId: organization.id })).data;
  assert.equal(directory.state, 'active');

  await workos.directorySync.deleteDirectory({ id: directory.id });

  await assert.rejects(workos.directorySync.getDirectory({ id: directory.id }), NotFoundException);
  const left = await workos.directorySync.listDirectories({ organizationId: organization.id });
  assert.deepEqual(left.data, []);
  const refused = await fetch(users, { headers: { authorization: `Bearer ${created.token}` } });
  assert.equal(refused.status, 401, "the directory's token is refused at once");
  await workos.directorySync.deleteDirectory({ id: directory.id }); // a retry succeeds too
  const page = await workos.events.listEvents({
    events: ['dsync.activated', 'dsync.deleted'],
    organizationId: organization.id,
  });
  assert.deepEqual(
    page.data.map((event) => event.event),
    ['dsync.activated', 'dsync.deleted'],
  );
  const [activated, deleted] = page.data;
  assert.equal(activated.data.id, directory.id);
  assert.equal(activated.data.state, 'active');
  assert.equal(activated.data.organizationId, organization.id);
  assert.equal(activated.data.externalKey, created.directory.id);
  assert.deepEqual(activated.data.domains, []);
  assert.ok(activated.data.createdAt instanceof Date && !Number.isNaN(activated.data.createdAt.getTime()));
  assert.equal(deleted.data.id, directory.id);
  assert.equal(deleted.data.state, 'deleting');
  assert.equal(deleted.data.name, 'Okta');
  assert.equal(deleted.data.type, 'okta scim v2.0');
  assert.ok(deleted.data.updatedAt >= activated.data.updatedAt);
  assert.ok(deleted.createdAt instanceof Date);
});
