/**
 * Manifests pushed by a team member who means harm: what one repository's writer can do to what
 * other repositories serve, and manifests built to make the parser work. Real server with --config.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { MediaType } from '../../../src/oci/mediaTypes';
import { buildImage, contentOf, type BuiltImage } from '../../support/ociImage';
import { removeDir, tempDir } from '../../support/proc';
import { basic, errorCode, startTeamRegistry, type TeamRegistry } from './teamRegistry';

const USERS = { alice: 'alice-pw', mallory: 'mallory-pw' };
const ACCESS = {
  rules: [
    { repositories: ['team-a/**'], users: ['alice'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['mallory/**'], users: ['mallory'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['public/**'], users: ['alice'], actions: ['pull', 'push'] },
    { repositories: ['public/**'], anonymous: true, actions: ['pull'] },
  ],
};
type User = keyof typeof USERS;

const as = (user: User): string => basic(user, USERS[user]);

async function call(reg: TeamRegistry, method: string, path: string, user: User, body?: Buffer, contentType?: string): Promise<Response> {
  const headers: Record<string, string> = { Authorization: as(user) };
  if (contentType) headers['Content-Type'] = contentType;
  return fetch(`${reg.url}${path}`, { method, headers, ...(body ? { body } : {}) });
}

/** PUTs a body on its own connection; resolves with the answer once the registry sends it. */
function putOnOwnConnection(reg: TeamRegistry, path: string, user: User, body: Buffer, contentType: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${reg.url}${path}`, {
      method: 'PUT', agent: false, headers: { Authorization: as(user), 'Content-Type': contentType, 'Content-Length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * How many anonymous pulls of a small manifest, sent one after another by another client, the
 * registry answered while `work` ran. Parsing a multi-MiB manifest on the event loop holds it for
 * hundreds of ms (seconds on a loaded machine), so at most a few pulls slip in before and after;
 * parsed off the event loop, the pulls go on all along.
 */
async function pullsAnsweredWhile<T>(reg: TeamRegistry, pull: string, work: () => Promise<T>): Promise<{ result: T; answered: number }> {
  let done = false;
  let answered = 0;
  const pulls = (async () => {
    while (!done) {
      const res = await fetch(`${reg.url}${pull}`, { headers: { Accept: MediaType.ociManifest } });
      assert.equal(res.status, 200, 'an anonymous pull of a small manifest');
      await res.arrayBuffer();
      if (!done) answered++;
    }
  })();
  try {
    // The pulls are under way before the work starts.
    while (answered < 2) await new Promise((r) => setTimeout(r, 5));
    const before = answered;
    const result = await work();
    return { result, answered: answered - before };
  } finally {
    done = true;
    await pulls;
  }
}

/** Pulls answered during a multi-MiB parse that only an event loop left free reaches (a few ms a pull). */
const MIN_PULLS_DURING_PARSE = 50;

async function pushBlobs(reg: TeamRegistry, repo: string, user: User, blobs: ReturnType<typeof contentOf>): Promise<void> {
  for (const blob of blobs) {
    const res = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${blob.descriptor.digest}`, user, blob.bytes, 'application/octet-stream');
    assert.equal(res.status, 201, await res.text());
  }
}

describe('team registry manifests pushed to cause harm', function () {
  let reg: TeamRegistry;

  before(async function () {
    reg = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS } });
  });
  after(async function () {
    await reg?.stop();
  });

  it("keeps serving a repository's manifest with its own type when another repository pushes the same bytes as another type", async function () {
    // A manifest without a mediaType field: its type is what the pushing client declared.
    const image = buildImage({ labels: { unique: String(Math.random()) } });
    const { mediaType: _dropped, ...withoutField } = image.manifest;
    const bytes = Buffer.from(JSON.stringify(withoutField));
    const blobs = contentOf(image).slice(0, -1);

    await pushBlobs(reg, 'team-a/app', 'alice', blobs);
    const own = await call(reg, 'PUT', '/v2/team-a/app/manifests/1', 'alice', bytes, MediaType.ociManifest);
    assert.equal(own.status, 201, await own.text());
    const digest = own.headers.get('docker-content-digest');

    await pushBlobs(reg, 'mallory/copy', 'mallory', blobs);
    const other = await call(reg, 'PUT', '/v2/mallory/copy/manifests/1', 'mallory', bytes, MediaType.dockerManifest);
    assert.equal(other.status, 201, await other.text());
    assert.equal(other.headers.get('docker-content-digest'), digest);

    for (const ref of ['1', digest as string]) {
      const res = await call(reg, 'GET', `/v2/team-a/app/manifests/${ref}`, 'alice');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), MediaType.ociManifest, `team-a/app:${ref}`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    }
    const theirs = await call(reg, 'GET', '/v2/mallory/copy/manifests/1', 'mallory');
    assert.equal(theirs.headers.get('content-type'), MediaType.dockerManifest, 'each repository serves the type it was pushed with');
    await theirs.arrayBuffer();
  });

  it('serves a manifest re-pushed into the same repository with the type of the latest push', async function () {
    const image = buildImage({ labels: { unique: String(Math.random()) } });
    const { mediaType: _dropped, ...withoutField } = image.manifest;
    const bytes = Buffer.from(JSON.stringify(withoutField));
    await pushBlobs(reg, 'team-a/retyped', 'alice', contentOf(image).slice(0, -1));
    for (const type of [MediaType.dockerManifest, MediaType.ociManifest]) {
      const put = await call(reg, 'PUT', '/v2/team-a/retyped/manifests/1', 'alice', bytes, type);
      assert.equal(put.status, 201, await put.text());
      const res = await call(reg, 'HEAD', '/v2/team-a/retyped/manifests/1', 'alice');
      assert.equal(res.headers.get('content-type'), type);
    }
    assert.equal(await errorCode(await call(reg, 'GET', '/v2/team-a/retyped/manifests/1', 'mallory')), 'DENIED');
  });

  async function pushImage(repo: string, user: User, registry = reg): Promise<{ image: BuiltImage; digest: string }> {
    const image = buildImage({ labels: { unique: String(Math.random()) } });
    await pushBlobs(registry, repo, user, contentOf(image).slice(0, -1));
    const res = await call(registry, 'PUT', `/v2/${repo}/manifests/1`, user, image.bytes, image.mediaType);
    assert.equal(res.status, 201, await res.text());
    return { image, digest: image.digest };
  }

  it('refuses an 8 MiB nesting bomb with MANIFEST_INVALID and answers other clients while it arrives', async function () {
    const { image, digest } = await pushImage('team-a/base', 'alice');
    // A valid referrer of team-a/base in every way but one: an extra field nested four million levels deep.
    const head = JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest, config: image.manifest.config, layers: [],
      subject: { mediaType: MediaType.ociManifest, digest, size: image.bytes.length },
    }).slice(0, -1) + ',"x":';
    const depth = Math.floor((8 * 1024 * 1024 - head.length - 1) / 2);
    const bomb = Buffer.from(`${head}${'['.repeat(depth)}${']'.repeat(depth)}}`);
    assert.ok(bomb.length <= 8 * 1024 * 1024);

    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${reg.url}/v2/team-a/base/manifests/bomb`, {
        method: 'PUT', headers: { Authorization: as('alice'), 'Content-Type': MediaType.ociManifest, 'Content-Length': bomb.length },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      // Half now; the other half once another client has been answered.
      req.write(bomb.subarray(0, bomb.length / 2));
      void call(reg, 'GET', '/v2/team-a/base/tags/list', 'alice').then(async (res) => {
        assert.equal(res.status, 200);
        assert.deepEqual((await res.json() as { tags: string[] }).tags, ['1']);
        req.end(bomb.subarray(bomb.length / 2));
      }).catch(reject);
    });
    const { status, body } = await answer;
    assert.equal(status, 400, body);
    const error = (JSON.parse(body) as { errors: Array<{ code: string; message: string }> }).errors[0];
    assert.equal(error?.code, 'MANIFEST_INVALID');
    assert.match(error?.message ?? '', /nests deeper than 64 levels/);

    assert.equal((await call(reg, 'GET', '/v2/team-a/base/manifests/bomb', 'alice')).status, 404);
    const referrers = await call(reg, 'GET', `/v2/team-a/base/referrers/${digest}`, 'alice');
    assert.equal(referrers.status, 200);
    assert.deepEqual((await referrers.json() as { manifests: unknown[] }).manifests, []);
  });

  /** An image anyone may pull, for the other client's small requests. */
  async function publicPull(registry = reg): Promise<string> {
    await pushImage('public/small', 'alice', registry);
    return '/v2/public/small/manifests/1';
  }

  it('refuses 8 MiB of empty layer objects with MANIFEST_INVALID and answers other clients while it is parsed', async function () {
    const pull = await publicPull();
    // Flat and shallow, but V8 takes seconds to build 2.8 million empty objects.
    const head = `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{},"layers":[`;
    const count = Math.floor((8 * 1024 * 1024 - head.length - 2) / 3);
    const hostile = Buffer.from(`${head}${'{},'.repeat(count - 1)}{}]}`);
    assert.ok(hostile.length <= 8 * 1024 * 1024);
    const { result, answered } = await pullsAnsweredWhile(reg, pull, () => putOnOwnConnection(reg, '/v2/team-a/hostile/manifests/1', 'alice', hostile, MediaType.ociManifest));
    assert.equal(result.status, 400, result.body);
    const error = (JSON.parse(result.body) as { errors: Array<{ code: string; message: string }> }).errors[0];
    assert.equal(error?.code, 'MANIFEST_INVALID');
    assert.match(error?.message ?? '', /config\.mediaType is missing/);
    assert.ok(answered >= MIN_PULLS_DURING_PARSE, `only ${answered} pulls were answered while the manifest was parsed`);
  });

  it('accepts a 7 MiB manifest with 40,000 layers and a subject, and answers other clients while it is pushed, listed as a referrer after a restart, and pulled', async function () {
    const root = join(tempDir('manifests'), 'data');
    let second: TeamRegistry | undefined;
    try {
      const first = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS }, root });
      let big: Buffer;
      let subject: string;
      let pull: string;
      try {
        pull = await publicPull(first);
        subject = (await pushImage('team-a/big', 'alice', first)).digest;
        const image = buildImage({ labels: { unique: String(Math.random()) } });
        const [layer] = image.layers;
        assert.ok(layer);
        await pushBlobs(first, 'team-a/big', 'alice', contentOf(image).slice(0, -1));
        big = Buffer.from(JSON.stringify({
          schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.example.parts',
          config: image.manifest.config,
          // The same layer 40,000 times, each with its own annotation: a manifest as large as real ones get.
          layers: Array.from({ length: 40_000 }, (_, i) => ({ ...layer.descriptor, annotations: { 'org.example.part': String(i).padStart(5, '0') } })),
          subject: { mediaType: MediaType.ociManifest, digest: subject, size: 1 },
        }));
        assert.ok(big.length > 6 * 1024 * 1024 && big.length < 8 * 1024 * 1024, `${big.length} bytes`);
        const { result, answered } = await pullsAnsweredWhile(first, pull, () => putOnOwnConnection(first, '/v2/team-a/big/manifests/parts', 'alice', big, MediaType.ociManifest));
        assert.equal(result.status, 201, result.body);
        assert.equal(result.headers['oci-subject'], subject);
        assert.ok(answered >= MIN_PULLS_DURING_PARSE, `only ${answered} pulls were answered while the manifest was pushed`);
      } finally {
        await first.stop();
      }

      // A fresh process rebuilds the referrers index from the stored manifests, the big one included.
      second = await startTeamRegistry({ users: USERS, config: { auth: {}, access: ACCESS }, root });
      const registry = second;
      const listed = await pullsAnsweredWhile(registry, pull, async () => {
        const res = await call(registry, 'GET', `/v2/team-a/big/referrers/${subject}`, 'alice');
        assert.equal(res.status, 200);
        return (await res.json() as { manifests: Array<{ digest: string; artifactType?: string; size: number }> }).manifests;
      });
      const digest = `sha256:${createHash('sha256').update(big).digest('hex')}`;
      assert.deepEqual(listed.result.map((m) => [m.digest, m.artifactType, m.size]), [[digest, 'application/vnd.example.parts', big.length]]);
      assert.ok(listed.answered >= MIN_PULLS_DURING_PARSE, `only ${listed.answered} pulls were answered while the referrers index was rebuilt`);

      const got = await call(registry, 'GET', '/v2/team-a/big/manifests/parts', 'alice');
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), MediaType.ociManifest);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(big));
    } finally {
      await second?.stop();
      removeDir(join(root, '..'));
    }
  });

  it('refuses a manifest nested past 64 levels and accepts one within them', async function () {
    const image = buildImage({ labels: { unique: String(Math.random()) } });
    await pushBlobs(reg, 'team-a/deep', 'alice', contentOf(image).slice(0, -1));
    let extra: unknown = 'leaf';
    for (let i = 0; i < 60; i++) extra = { level: [extra] };
    const put = await call(reg, 'PUT', '/v2/team-a/deep/manifests/1', 'alice', Buffer.from(JSON.stringify({ ...image.manifest, extra })), MediaType.ociManifest);
    assert.equal(put.status, 400, 'two levels per step: 120 is past the limit');
    assert.match(await put.text(), /MANIFEST_INVALID/);
    extra = 'leaf';
    for (let i = 0; i < 30; i++) extra = { level: [extra] };
    const ok = await call(reg, 'PUT', '/v2/team-a/deep/manifests/1', 'alice', Buffer.from(JSON.stringify({ ...image.manifest, extra })), MediaType.ociManifest);
    assert.equal(ok.status, 201, await ok.text());
  });
});
