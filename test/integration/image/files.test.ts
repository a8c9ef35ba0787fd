import { strict as assert } from 'node:assert';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../../src/client';
import { mergeLayers, type MergedTree } from '../../../src/image/fileTree';
import { ImageFiles, LayerCache } from '../../../src/image/imageFiles';
import { indexLayer } from '../../../src/image/layerReader';
import { containerTools, type ContainerTools } from '../../support/clients';
import { layerTar, type TarEntry } from '../../support/layerTar';
import { buildImage, layerOf, pushBuilt, type BuiltImage } from '../../support/ociImage';
import { TARGETS, useRegistry } from '../clients/targets';

/** A file's identity as a container sees it: type, permissions and content (or link target). */
function describeTree(tree: MergedTree): Map<string, string> {
  const out = new Map<string, string>();
  for (const { path, node } of tree.walk()) {
    const what = node.type === 'file' ? `file ${node.size} ${node.sha256 ?? '?'}` : node.type === 'symlink' ? `symlink ${node.linkTarget ?? ''}` : node.type;
    out.set(path, `${what} ${(node.mode & 0o777).toString(8)}`);
  }
  return out;
}

const BOTTOM: TarEntry[] = [
  { path: 'bin', type: 'directory' },
  { path: 'bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { path: 'bin/hard', type: 'link', target: 'bin/tool', mode: 0o755 },
  { path: 'bin/link', type: 'symlink', target: 'tool' },
  { path: 'etc', type: 'directory' },
  { path: 'etc/app', type: 'directory' },
  { path: 'etc/app/a.conf', content: 'a=1\n' },
  { path: 'etc/app/b.conf', content: 'b=1\n' },
  { path: 'var', type: 'directory' },
  { path: 'var/cache', type: 'directory' },
  { path: 'var/cache/old-1', content: 'old\n' },
  { path: 'var/cache/sub', type: 'directory' },
  { path: 'var/cache/sub/old-2', content: 'old\n' },
  { path: 'usr', type: 'directory' },
  { path: 'usr/share', type: 'directory' },
  { path: 'usr/share/doc', content: 'a file that becomes a folder\n' },
  { path: `opt/${'deep/'.repeat(30)}long-name.txt`, content: 'a path past ustar limits\n' },
];
const MIDDLE: TarEntry[] = [
  { path: 'etc/app/a.conf', type: 'whiteout' },
  { path: 'etc/app/c.conf', content: 'c=1\n' },
  { path: 'etc/app/b.conf', content: 'b=2, changed\n', mode: 0o600 },
  // Opaque: the lower contents of var/cache go, the new file of this same layer stays.
  { path: 'var/cache', type: 'opaque' },
  { path: 'var/cache/new', content: 'new\n' },
  { path: 'usr/share/doc', type: 'directory' },
  { path: 'usr/share/doc/readme', content: 'now a folder\n' },
];
const TOP: TarEntry[] = [
  // A whiteout removes what lower layers have; what this layer adds under the same name stays.
  { path: 'usr', type: 'whiteout' },
  { path: 'usr', type: 'directory' },
  { path: 'usr/local', type: 'directory' },
  { path: 'usr/local/only', content: 'only this is left of usr\n' },
  { path: 'bin/link', type: 'whiteout' },
  { path: 'srv', type: 'symlink', target: '/var/cache' },
];

const EXPECTED_PATHS = [
  'bin', 'bin/hard', 'bin/tool', 'etc', 'etc/app', 'etc/app/b.conf', 'etc/app/c.conf',
  'opt', ...Array.from({ length: 30 }, (_, i) => `opt/${'deep/'.repeat(i + 1).slice(0, -1)}`), `opt/${'deep/'.repeat(30)}long-name.txt`,
  'srv', 'usr', 'usr/local', 'usr/local/only', 'var', 'var/cache', 'var/cache/new',
].sort();

async function whiteoutImage(): Promise<BuiltImage> {
  return buildImage({
    cmd: ['/bin/tool'],
    layers: [
      layerOf(await layerTar(BOTTOM), { gzip: true }),
      layerOf(await layerTar(MIDDLE)),
      layerOf(await layerTar(TOP), { gzip: true, format: 'oci' }),
    ],
  });
}

for (const target of TARGETS) {
  describe(`browsing an image's files on ${target.name}`, function () {
    const registry = useRegistry(target);
    let client: RegistryClient;
    let image: BuiltImage;
    before(async function () {
      client = new RegistryClient();
      image = await whiteoutImage();
      await pushBuilt(registry().url, 'files/app', image, 'v1');
    });
    after(() => client?.close());

    it('merges the layers with whiteouts and opaque folders applied, as the image spec says', async function () {
      const files = await ImageFiles.open(client.registry(registry().host), { repository: 'files/app', reference: 'v1' }, new LayerCache());
      const tree = await files.tree();
      assert.deepEqual([...tree.walk()].map((w) => w.path).sort(), EXPECTED_PATHS);
      assert.deepEqual(tree.problems, []);
      assert.equal((await files.read('etc/app/b.conf')).toString(), 'b=2, changed\n');
      assert.equal((await files.stat('etc/app/b.conf')).mode, 0o600);
      assert.equal((await files.read('bin/hard')).toString(), '#!/bin/sh\necho tool\n');
      assert.equal((await files.read(`opt/${'deep/'.repeat(30)}long-name.txt`)).toString(), 'a path past ustar limits\n');
      // srv → /var/cache: read through the link, as a process in the container would.
      assert.deepEqual((await files.list('srv')).map((n) => n.name), ['new']);
      assert.equal((await files.read('srv/new')).toString(), 'new\n');
      const srv = await files.stat('srv');
      assert.equal(srv.isSymlink, true);
      assert.equal(srv.type, 'directory');
      await assert.rejects(files.read('etc/app/a.conf'), /does not exist/);
      await assert.rejects(files.read('etc'), /is a directory, not a file/);
    });

    it('reads each layer once across images that share it, and a file again from the cache', async function () {
      const cache = new LayerCache();
      const reg = client.registry(registry().host);
      const first = await ImageFiles.open(reg, { repository: 'files/app', reference: 'v1' }, cache);
      await first.tree();
      assert.equal(cache.layerReads, 3);
      const shared = buildImage({ layers: [...image.layers.slice(0, 2), layerOf(await layerTar([{ path: 'extra', content: 'x' }]))] });
      await pushBuilt(registry().url, 'files/app', shared, 'v2');
      const second = await ImageFiles.open(reg, { repository: 'files/app', reference: 'v2' }, cache);
      assert.equal((await second.read('extra')).toString(), 'x');
      assert.equal(cache.layerReads, 5, 'only the new layer was listed, then the one file read');
      await second.read('extra');
      assert.equal(cache.layerReads, 5, 'the file came from the cache');
      assert.equal(cache.stats.layers, 4);
    });

    it('refuses an artifact as something to browse, saying what it is', async function () {
      const artifact = buildImage({ layers: [layerOf('{"spdxVersion":"SPDX-2.3"}', { mediaType: 'application/spdx+json' })] });
      await pushBuilt(registry().url, 'files/app', artifact, 'sbom');
      await assert.rejects(ImageFiles.open(client.registry(registry().host), { repository: 'files/app', reference: 'sbom' }, new LayerCache()),
        /layer of type application\/spdx\+json, which is not a filesystem layer/);
    });
  });
}

describe('the merged tree against podman export', function () {
  const registry = useRegistry(TARGETS[0] as (typeof TARGETS)[number]);
  let tools: ContainerTools;
  before(() => (tools = containerTools()));
  after(async () => tools?.cleanup());

  it('lists the same files, types, modes and contents as the container podman creates from the image', async function () {
    const image = await whiteoutImage();
    await pushBuilt(registry().url, 'files/podman', image, 'v1');
    const ref = `${registry().host}/files/podman:v1`;
    await tools.podman(['pull', '--tls-verify=false', ref]);
    await tools.podman(['create', '--name', 'exported', '--network', 'none', ref]);
    const exported = join(tools.dir, 'export.tar');
    await tools.podman(['export', '-o', exported, 'exported']);
    const engineView = describeTree(mergeLayers([await indexLayer(createReadStream(exported), { what: 'podman export', digest: '' })]));

    const client = new RegistryClient();
    try {
      const files = await ImageFiles.open(client.registry(registry().host), { repository: 'files/podman', reference: 'v1' }, new LayerCache());
      const ours = describeTree(await files.tree());
      // What the engine adds to every container, not part of the image.
      const engineMade = /^(dev|proc|sys|run|etc\/(hosts|hostname|resolv\.conf|mtab)|\.containerenv|run\/\.containerenv)(\/|$)/;
      const theirs = new Map([...engineView].filter(([p]) => !engineMade.test(p) || ours.has(p)));
      // Folders the engine made for its mounts show up with its own modes; compare what the image defines.
      for (const [path, what] of theirs) if (!ours.has(path) && what.startsWith('directory')) theirs.delete(path);
      assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [path, what] of ours) assert.equal(what, theirs.get(path), path);
    } finally {
      client.close();
    }
  });
});
