import { strict as assert } from 'node:assert';
import { collectConnection, describeCheckFailure } from '../../../src/commands/connectFlow';
import { entryFromDraft, emailProblem, serverProblem } from '../../../src/app/presets';
import { RegistryError } from '../../../src/client/errors';
import { Cancelled } from '../../../src/app/problems';
import { FakeUi } from '../fakes/ui';

describe('connect a registry: the conversation', () => {
  it('a preset with a fixed server asks only user name, hidden password and e-mail', async () => {
    const ui = new FakeUi([{ pick: 'GitHub Container Registry' }, { input: 'octocat' }, { input: 'ghp_secret' }, { input: '' }]);
    const draft = await collectConnection(ui);
    assert.deepEqual(draft, { preset: 'ghcr', server: 'ghcr.io', username: 'octocat', secret: 'ghp_secret', email: '' });
    const password = ui.shown.find((s) => s.kind === 'input' && s.text.startsWith('Personal access token'));
    assert.equal((password?.options as { password?: boolean }).password, true, 'the token is typed into a hidden input');
  });

  it('a generic registry asks for the server, validates it, and skips the password when anonymous', async () => {
    const ui = new FakeUi([{ pick: 'Other registry (OCI / Docker V2)' }, { input: 'https://registry.example.com:8443/' }, { input: '' }]);
    const draft = await collectConnection(ui);
    assert.equal(draft.server, 'https://registry.example.com:8443/');
    assert.equal(draft.secret, '');
    assert.equal(ui.remaining, 0);
    assert.deepEqual(entryFromDraft(draft), { id: 'registry.example.com:8443', label: 'registry.example.com:8443', server: 'registry.example.com:8443', preset: 'generic' });
  });

  it('refuses a server that is not host[:port]', async () => {
    const ui = new FakeUi([{ pick: 'Other registry (OCI / Docker V2)' }, { input: 'ftp://example.com' }]);
    await assert.rejects(collectConnection(ui), /rejected by validation/);
    assert.match(ui.validationErrors[0] ?? '', /ftp/);
  });

  it('stops quietly when the person dismisses a prompt', async () => {
    const ui = new FakeUi([{ pick: undefined }]);
    await assert.rejects(collectConnection(ui), (e: unknown) => e instanceof Cancelled);
  });

  it('editing keeps the server and offers the saved user name', async () => {
    const ui = new FakeUi([{ input: 'me' }, { input: 'new-token' }, { input: 'me@example.com' }]);
    const draft = await collectConnection(ui, { existing: { id: 'quay.io', label: 'Quay', server: 'quay.io', preset: 'quay', username: 'me' } });
    assert.equal(draft.server, 'quay.io');
    assert.equal(draft.email, 'me@example.com');
    assert.equal((ui.shown[0]?.options as { value?: string }).value, 'me');
  });

  const validation: Array<{ input: string; ok: boolean }> = [
    { input: 'ghcr.io', ok: true },
    { input: 'localhost:5000', ok: true },
    { input: 'http://127.0.0.1:5000', ok: true },
    { input: '', ok: false },
    { input: 'has space.io', ok: false },
    { input: 'host:99999', ok: false },
  ];
  for (const { input, ok } of validation) {
    it(`server "${input}" is ${ok ? 'accepted' : 'refused with a reason'}`, () => {
      assert.equal(serverProblem(input) === undefined, ok);
    });
  }

  it('an optional e-mail may be empty but not malformed', () => {
    assert.equal(emailProblem(''), undefined);
    assert.equal(emailProblem('a@b.c'), undefined);
    assert.ok(emailProblem('not-an-email'));
  });

  it('plain HTTP only for loopback registries or an explicit http:// address', () => {
    assert.equal(entryFromDraft({ preset: 'local', server: 'localhost:5000', username: '', secret: '', email: '' }).insecureHttp, true);
    assert.equal(entryFromDraft({ preset: 'generic', server: 'http://lan-box:5000', username: '', secret: '', email: '' }).insecureHttp, true);
    assert.equal(entryFromDraft({ preset: 'generic', server: 'lan-box:5000', username: '', secret: '', email: '' }).insecureHttp, undefined);
    assert.equal(entryFromDraft({ preset: 'generic', server: '::1', username: '', secret: '', email: '' }).insecureHttp, true);
  });
});

describe('connect a registry: which part failed', () => {
  const table: Array<{ kind: ConstructorParameters<typeof RegistryError>[0]['kind']; says: RegExp }> = [
    { kind: 'unauthorized', says: /refused the user name or password\/token/ },
    { kind: 'denied', says: /denies access/ },
    { kind: 'tls', says: /certificate is not trusted/ },
    { kind: 'unreachable', says: /did not answer/ },
    { kind: 'not-a-registry', says: /not a container registry/ },
    { kind: 'rate-limited', says: /rate limiting/ },
  ];
  for (const { kind, says } of table) {
    it(`${kind} → "${says.source}"`, () => {
      const { problem, message } = describeCheckFailure('r.example.com', new RegistryError({ kind, message: 'x' }));
      assert.match(message, says);
      assert.ok(message.includes('r.example.com'));
      assert.notEqual(problem.kind, 'unknown');
    });
  }
});
