// A stand-in for Google's token endpoint and the Admin SDK Directory API, for the browser
// tests (the Rust HTTP tests have their own, `server/tests/http/google_stand_in.rs`). It
// follows Google's documented shapes: the JWT-bearer grant, its RS256 assertion checked
// with the service account's public key (derived from the test key file) and its claims;
// `users.list`, `groups.list` and `members.list` with `maxResults`, `pageToken` and
// `nextPageToken`; an omitted list when empty; Google's error bodies.
//
// Started by `cargo xtask test` before the servers (which are pointed at it with
// GOOGLE_TOKEN_URL and GOOGLE_API_BASE); prints its port. A test sets the directory it
// serves with `PUT /_stand-in/directory` ({admin, users, groups: [{group, members}]}).
import { createServer } from 'node:http';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const keyFile = JSON.parse(readFileSync(new URL('./fixtures/google-service-account.json', import.meta.url)));
const publicKey = createPublicKey(keyFile.private_key);
const accessToken = 'ya29.browser-test-stand-in';
const scopes = [
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
];
let directory = { admin: '', users: [], groups: [] };

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

function googleError(response, status, reason, message) {
  send(response, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
}

function page(response, kind, key, items, query, most) {
  const size = Math.min(Math.max(Number(query.get('maxResults') ?? most) || most, 1), most);
  const start = Number((query.get('pageToken') ?? 'page-0').replace('page-', '')) || 0;
  const body = { kind, etag: '"stand-in"' };
  const slice = items.slice(start, start + size);
  if (slice.length > 0) body[key] = slice;
  if (start + size < items.length) body.nextPageToken = `page-${start + size}`;
  send(response, 200, body);
}

function token(form, response, port) {
  const refuse = (status, error, description) => send(response, status, { error, error_description: description });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    return refuse(400, 'unsupported_grant_type', 'Invalid grant_type');
  }
  const [header, claims, signature] = (form.get('assertion') ?? '').split('.');
  if (!signature || !verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url'))) {
    return refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
  }
  const claimed = JSON.parse(Buffer.from(claims, 'base64url').toString());
  if (claimed.iss !== keyFile.client_email || claimed.aud !== `http://127.0.0.1:${port}/token`) {
    return refuse(400, 'invalid_grant', 'Invalid JWT: iss or aud');
  }
  const granted = String(claimed.scope ?? '').split(' ');
  if (claimed.sub !== directory.admin || !scopes.every((scope) => granted.includes(scope))) {
    return refuse(401, 'unauthorized_client',
      'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
  }
  return send(response, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://stand-in');
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const port = server.address().port;
    if (request.method === 'PUT' && url.pathname === '/_stand-in/directory') {
      directory = JSON.parse(body);
      return send(response, 200, { ok: true });
    }
    if (request.method === 'POST' && url.pathname === '/token') return token(new URLSearchParams(body), response, port);
    if (request.headers.authorization !== `Bearer ${accessToken}`) return googleError(response, 401, 'authError', 'Invalid Credentials');
    if (url.pathname === '/admin/directory/v1/users') {
      if (url.searchParams.get('customer') !== 'my_customer') return googleError(response, 400, 'invalid', 'Invalid Input');
      return page(response, 'admin#directory#users', 'users', directory.users, url.searchParams, 500);
    }
    if (url.pathname === '/admin/directory/v1/groups') {
      return page(response, 'admin#directory#groups', 'groups', directory.groups.map((g) => g.group), url.searchParams, 200);
    }
    const members = url.pathname.match(/^\/admin\/directory\/v1\/groups\/([^/]+)\/members$/);
    if (members) {
      const found = directory.groups.find((g) => g.group.id === decodeURIComponent(members[1]));
      if (!found) return googleError(response, 404, 'notFound', 'Resource Not Found: groupKey');
      return page(response, 'admin#directory#members', 'members', found.members, url.searchParams, 200);
    }
    return googleError(response, 404, 'notFound', 'Not Found');
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(server.address().port);
});
