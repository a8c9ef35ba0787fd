import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { AccessPolicy, covers, globToRegExp, parseScopes, type Access } from '../../../src/server/auth/access';
import { formatHtpasswd, hashPassword, parseHtpasswd, typicalCost, upsertEntry } from '../../../src/server/auth/htpasswd';
import { TokenSigner } from '../../../src/server/auth/jwt';
import { readAuthConfig } from '../../../src/server/auth/config';
import { readCredentials } from '../../../src/server/auth/controller';

// Written by Debian's apache2-utils 2.4: `htpasswd -nbB alice 'correct horse'`, `htpasswd -nbB -C 10 bob 'p@ss:word'`.
const APACHE_FILE = `alice:$2y$05$MXTwsGaqu4.07UV2fkjuveKG.V45PTp9G/KnJ7SS9U2PsWI6f0.AG
# a comment

bob:$2y$10$o5Xn8dIdYZjOm5A9c5cZ9esh0dsojO6zqPUDgFUJA97tINmxmUuQG
`;

describe('auth: htpasswd', () => {
  const h = (cost: string): string => `$2y$${cost}$${'a'.repeat(53)}`;
  const costs: Array<{ what: string; hashes: string[]; expected: number }> = [
    { what: 'the cost every user has', hashes: [h('05'), h('05')], expected: 5 },
    { what: 'the cost most users have', hashes: [h('05'), h('12'), h('05')], expected: 5 },
    { what: 'the higher cost on a tie', hashes: [h('05'), h('12')], expected: 12 },
    { what: 'the default cost for an empty file', hashes: [], expected: 10 },
  ];
  for (const t of costs) {
    it(`makes the decoy for unknown users at ${t.what}`, () => assert.equal(typicalCost(t.hashes), t.expected));
  }

  it('reads the file apache htpasswd -B writes and verifies its hashes', async () => {
    const entries = parseHtpasswd(APACHE_FILE);
    assert.deepEqual(entries.map((e) => e.user), ['alice', 'bob']);
    assert.equal(await bcrypt.compare('correct horse', entries[0]?.hash ?? ''), true);
    assert.equal(await bcrypt.compare('p@ss:word', entries[1]?.hash ?? ''), true);
    assert.equal(await bcrypt.compare('wrong', entries[0]?.hash ?? ''), false);
  });

  it('writes $2y$ hashes that verify and round-trip through the file format', async () => {
    const hash = await hashPassword('s3cret', 4);
    assert.match(hash, /^\$2y\$04\$/);
    const text = formatHtpasswd(upsertEntry(parseHtpasswd(APACHE_FILE), { user: 'carol', hash }));
    const back = parseHtpasswd(text);
    assert.deepEqual(back.map((e) => e.user), ['alice', 'bob', 'carol']);
    assert.equal(await bcrypt.compare('s3cret', back[2]?.hash ?? ''), true);
  });

  it('replaces an existing user in place', () => {
    const entries = upsertEntry(parseHtpasswd(APACHE_FILE), { user: 'alice', hash: '$2y$04$' + 'a'.repeat(53) });
    assert.deepEqual(entries.map((e) => e.user), ['alice', 'bob']);
    assert.match(entries[0]?.hash ?? '', /^\$2y\$04\$a+$/);
  });

  const bad: Array<{ input: string; message: RegExp }> = [
    { input: 'alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', message: /htpasswd:1: the password of "alice" is not a bcrypt hash/ },
    { input: 'alice:$apr1$abc$def', message: /not a bcrypt hash/ },
    { input: 'no-colon-here', message: /htpasswd:1: expected "user:hash"/ },
  ];
  for (const { input, message } of bad) it(`rejects ${input.slice(0, 16)}… with a line number`, () => assert.throws(() => parseHtpasswd(input), { message }));
});

describe('auth: scopes', () => {
  const table: Array<{ input: string[]; expected: Access[] }> = [
    { input: ['repository:team-a/api:pull,push'], expected: [{ type: 'repository', name: 'team-a/api', actions: ['pull', 'push'] }] },
    { input: ['registry:catalog:*'], expected: [{ type: 'registry', name: 'catalog', actions: ['*'] }] },
    { input: ['repository:a:pull repository:b:push'], expected: [{ type: 'repository', name: 'a', actions: ['pull'] }, { type: 'repository', name: 'b', actions: ['push'] }] },
    { input: ['repository:a:pull', 'repository:a:push'], expected: [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }] },
    { input: ['repository:localhost:5000/x:pull'], expected: [{ type: 'repository', name: 'localhost:5000/x', actions: ['pull'] }] },
    { input: ['repository(plugin):p:pull'], expected: [{ type: 'repository', name: 'p', actions: ['pull'] }] },
    { input: ['garbage', 'repository::pull', 'repository:x:'], expected: [] },
  ];
  for (const { input, expected } of table) it(`parses ${JSON.stringify(input)}`, () => assert.deepEqual(parseScopes(input), expected));

  it('checks that held access covers the needed access', () => {
    const held: Access[] = [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }];
    assert.equal(covers(held, [{ type: 'repository', name: 'a', actions: ['push'] }]), true);
    assert.equal(covers(held, [{ type: 'repository', name: 'a', actions: ['delete'] }]), false);
    assert.equal(covers(held, [{ type: 'repository', name: 'b', actions: ['pull'] }]), false);
    assert.equal(covers(held, []), true);
  });
});

describe('auth: access rules', () => {
  const patterns: Array<{ pattern: string; name: string; matches: boolean }> = [
    { pattern: 'team-a/*', name: 'team-a/api', matches: true },
    { pattern: 'team-a/*', name: 'team-a/api/v2', matches: false },
    { pattern: 'team-a/*', name: 'team-ab/api', matches: false },
    { pattern: 'team-a/**', name: 'team-a/api/v2', matches: true },
    { pattern: 'team-a/**', name: 'team-a', matches: true },
    { pattern: '*', name: 'busybox', matches: true },
    { pattern: '*', name: 'library/busybox', matches: false },
    { pattern: 'app.v?', name: 'app.v1', matches: true },
    { pattern: 'app.v?', name: 'appxv1', matches: false },
  ];
  for (const { pattern, name, matches } of patterns) {
    it(`pattern ${pattern} ${matches ? 'matches' : 'does not match'} ${name}`, () => assert.equal(globToRegExp(pattern).test(name), matches));
  }

  const policy = AccessPolicy.fromConfig({
    groups: { 'team-a': ['alice', 'bob'], admins: ['root'] },
    rules: [
      { repositories: ['team-a/*'], groups: ['team-a'], actions: ['pull', 'push'] },
      { repositories: ['team-a/*'], users: ['alice'], actions: ['delete'] },
      { repositories: ['**'], groups: ['admins'], actions: ['*'] },
      { repositories: ['public/**'], anonymous: true, actions: ['pull'] },
      { repositories: ['shared/*'], users: ['*'], actions: ['pull'] },
    ],
  });
  const grants: Array<{ user: string | undefined; repo: string; expected: string[] }> = [
    { user: 'alice', repo: 'team-a/api', expected: ['delete', 'pull', 'push'] },
    { user: 'bob', repo: 'team-a/api', expected: ['pull', 'push'] },
    { user: 'carol', repo: 'team-a/api', expected: [] },
    { user: 'root', repo: 'team-a/api', expected: ['delete', 'pull', 'push'] },
    { user: undefined, repo: 'public/base', expected: ['pull'] },
    { user: undefined, repo: 'team-a/api', expected: [] },
    { user: 'carol', repo: 'shared/tools', expected: ['pull'] },
    { user: undefined, repo: 'shared/tools', expected: [] },
  ];
  for (const { user, repo, expected } of grants) {
    it(`gives ${user ?? 'anonymous'} [${expected.join(',')}] on ${repo}`, () => assert.deepEqual([...policy.actionsOn(user, repo)].sort(), expected));
  }

  it('grants exactly the held part of a requested scope, dropping what is not held', () => {
    const granted = policy.grant('bob', [
      { type: 'repository', name: 'team-a/api', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'team-b/api', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.deepEqual(granted, [
      { type: 'repository', name: 'team-a/api', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('without an access section gives every signed-in user everything and anonymous nothing', () => {
    const open = AccessPolicy.allowAllUsers();
    assert.deepEqual([...open.actionsOn('anyone', 'x/y')].sort(), ['delete', 'pull', 'push']);
    assert.deepEqual([...open.actionsOn(undefined, 'x/y')], []);
  });

  const badRules: Array<{ input: unknown; message: RegExp }> = [
    { input: { rules: [{ repositories: ['a/*'], users: ['x'], actions: ['write'] }] }, message: /^access\.rules\[0\]\.actions: unknown action "write"/ },
    { input: { rules: [{ repositories: ['a/*'], groups: ['nope'], actions: ['pull'] }] }, message: /^access\.rules\[0\]\.groups: group "nope" is not defined/ },
    { input: { rules: [{ repositories: ['a/*'], actions: ['pull'] }] }, message: /^access\.rules\[0\]: a rule must name users, groups, or set anonymous/ },
    { input: { rules: [{ users: ['x'], actions: ['pull'] }] }, message: /^access\.rules\[0\]\.repositories/ },
    { input: { rulez: [] }, message: /^access\.rulez: unknown key/ },
  ];
  for (const { input, message } of badRules) it(`rejects ${JSON.stringify(input).slice(0, 60)}`, () => assert.throws(() => AccessPolicy.fromConfig(input), { message }));
});

describe('auth: tokens', () => {
  const signer = TokenSigner.ephemeral('berth', 'berth-registry');
  const access: Access[] = [{ type: 'repository', name: 'team-a/api', actions: ['pull'] }];

  it('signs an ES256 JWT with a kid that verifies and carries exactly the granted access', () => {
    const token = signer.issue('alice', access, 300, 1000);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(header, { alg: 'ES256', typ: 'JWT', kid: signer.kid });
    const checked = signer.check(token, 1100);
    assert.ok(checked.ok);
    assert.deepEqual(checked.ok && checked.claims.access, access);
    assert.equal(checked.ok && checked.claims.sub, 'alice');
  });

  it('signs RS256 with an RSA key and refuses keys it cannot use', () => {
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const rsa = TokenSigner.fromPem(rsaPem, 'berth', 'berth-registry');
    assert.equal(rsa.algorithm, 'RS256');
    const token = rsa.issue('alice', access, 300, 1000);
    assert.equal((JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { alg: string }).alg, 'RS256');
    assert.ok(rsa.check(token, 1001).ok);
    assert.deepEqual(signer.check(token, 1001), { ok: false, reason: 'signature' }, 'an ES256 signer refuses an RS256 token');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => TokenSigner.fromPem(small, 'b', 's'), /at least 2048 bits/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => TokenSigner.fromPem(p384, 'b', 's'), /EC P-256/);
  });

  const failures: Array<{ name: string; token: () => string; now: number; reason: string }> = [
    { name: 'an expired token', token: () => signer.issue('alice', access, 300, 1000), now: 1300, reason: 'expired' },
    { name: 'a token from another key', token: () => TokenSigner.ephemeral('berth', 'berth-registry').issue('alice', access, 300, 1000), now: 1001, reason: 'signature' },
    { name: 'a token for another service', token: () => TokenSigner.fromPem(PEM, 'berth', 'other').issue('alice', access, 300, 1000), now: 1001, reason: 'audience' },
    { name: 'a token whose claims were edited', token: () => tamper(signer.issue('alice', access, 300, 1000)), now: 1001, reason: 'signature' },
    { name: 'a refresh token used as an access token', token: () => signer.issue('alice', [], 300, 1000, 'refresh'), now: 1001, reason: 'kind' },
    { name: 'not a JWT', token: () => 'abc.def', now: 1001, reason: 'malformed' },
  ];
  for (const f of failures) {
    it(`rejects ${f.name} (${f.reason})`, () => {
      const signerForCheck = f.reason === 'audience' ? TokenSigner.fromPem(PEM, 'berth', 'berth-registry') : signer;
      assert.deepEqual(signerForCheck.check(f.token(), f.now), { ok: false, reason: f.reason });
    });
  }
});

// One key for both signers of the audience test, so only the service differs.
const PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function tamper(token: string): string {
  const [h, b, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(b, 'base64url').toString()) as { access: Access[] };
  claims.access = [{ type: 'repository', name: 'team-b/api', actions: ['push'] }];
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

describe('auth: config and credentials', () => {
  it('reads distribution-shaped htpasswd and token settings', () => {
    const c = readAuthConfig({ htpasswd: { realm: 'R', path: '/x/htpasswd' }, token: { expiration: '2s', service: 'svc' } });
    assert.equal(c?.htpasswdPath, '/x/htpasswd');
    assert.equal(c?.token?.expirationSeconds, 2);
    assert.equal(c?.token?.service, 'svc');
  });
  it('requires the htpasswd path', () => assert.throws(() => readAuthConfig({ htpasswd: { realm: 'R' } }), { message: /^auth\.htpasswd\.path: is required/ }));
  it('requires an absolute token realm', () => assert.throws(() => readAuthConfig({ htpasswd: { path: 'p' }, token: { realm: '/auth/token' } }), { message: /^auth\.token\.realm: must be an absolute/ }));

  const creds: Array<{ input: string | undefined; expected: unknown }> = [
    { input: `Basic ${Buffer.from('alice:pa:ss').toString('base64')}`, expected: { kind: 'basic', user: 'alice', password: 'pa:ss' } },
    { input: 'Bearer abc.def.ghi', expected: { kind: 'bearer', token: 'abc.def.ghi' } },
    { input: `Basic ${Buffer.from('nocolon').toString('base64')}`, expected: { kind: 'none' } },
    { input: undefined, expected: { kind: 'none' } },
  ];
  for (const { input, expected } of creds) it(`reads credentials from ${String(input).slice(0, 12)}`, () => assert.deepEqual(readCredentials(input), expected));
});
