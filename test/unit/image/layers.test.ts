import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../../src/oci/digest';
import { mergeLayers } from '../../../src/image/fileTree';
import { indexLayer, normalisePath, readLayerFile, zstdAvailable, type LayerEntry } from '../../../src/image/layerReader';
import { layerTar, type TarEntry } from '../../support/layerTar';

function entry(path: string, type: LayerEntry['type'] = 'file', extra: Partial<LayerEntry> = {}): LayerEntry {
  return { path, type, size: 0, mode: 0o644, mtimeMs: 0, uid: 0, gid: 0, ordinal: 0, ...extra };
}

describe('layer paths', () => {
  const table: Array<[string, string | undefined]> = [
    ['./usr/bin/', 'usr/bin'], ['/etc//passwd', 'etc/passwd'], ['.', ''], ['/', ''], ['a/./b', 'a/b'], ['../etc/passwd', undefined], ['a/../../b', undefined],
  ];
  for (const [input, expected] of table) {
    it(`normalises ${JSON.stringify(input)} to ${JSON.stringify(expected)}`, () => assert.equal(normalisePath(input), expected));
  }
});

describe('merging layers', () => {
  const cases: Array<{ name: string; layers: LayerEntry[][]; expected: string[] }> = [
    { name: 'a whiteout removes a lower file', layers: [[entry('a'), entry('b')], [entry('.wh.a')]], expected: ['b'] },
    { name: 'a whiteout removes a lower folder with everything in it', layers: [[entry('d', 'directory'), entry('d/x')], [entry('.wh.d')]], expected: [] },
    { name: 'a whiteout leaves what its own layer adds', layers: [[entry('d', 'directory'), entry('d/x')], [entry('d', 'directory'), entry('d/y'), entry('.wh.d')]], expected: ['d', 'd/y'] },
    { name: 'an opaque folder hides lower contents only', layers: [[entry('d', 'directory'), entry('d/x'), entry('e')], [entry('d/.wh..wh..opq'), entry('d/y')]], expected: ['d', 'd/y', 'e'] },
    { name: 'a folder replaces a lower file of that name', layers: [[entry('p')], [entry('p/q')]], expected: ['p', 'p/q'] },
    { name: 'a file replaces a lower folder of that name', layers: [[entry('p', 'directory'), entry('p/q')], [entry('p')]], expected: ['p'] },
    { name: 'missing parents are made', layers: [[entry('x/y/z')]], expected: ['x', 'x/y', 'x/y/z'] },
    { name: 'a whiteout of something absent changes nothing', layers: [[entry('a')], [entry('.wh.nothing'), entry('none/.wh.x')]], expected: ['a'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const tree = mergeLayers(c.layers.map((entries, i) => ({ digest: `sha256:${i}`, entries: entries.map((e, n) => ({ ...e, ordinal: n })) })));
      assert.deepEqual([...tree.walk()].map((w) => w.path), c.expected);
    });
  }

  it('follows absolute and relative symlinks and stops at loops', () => {
    const tree = mergeLayers([{ digest: 'sha256:0', entries: [
      entry('real', 'directory'), entry('real/f'), entry('abs', 'symlink', { linkTarget: '/real' }),
      entry('rel', 'symlink', { linkTarget: 'real/' }), entry('up', 'symlink', { linkTarget: '../../real/f' }),
      entry('loop1', 'symlink', { linkTarget: 'loop2' }), entry('loop2', 'symlink', { linkTarget: 'loop1' }),
    ] }]);
    assert.equal(tree.resolve('abs/f')?.path, 'real/f');
    assert.equal(tree.resolve('rel/f')?.path, 'real/f');
    assert.equal(tree.resolve('up')?.path, 'real/f');
    assert.equal(tree.resolve('loop1'), undefined);
  });
});

describe('reading layer archives', () => {
  const files: TarEntry[] = [{ path: 'a', content: 'first' }, { path: 'd', type: 'directory' }, { path: 'd/b', content: 'second' }];

  it('indexes plain and gzip archives alike, whatever the media type claimed', async () => {
    const tar = await layerTar(files);
    for (const bytes of [tar, gzipSync(tar)]) {
      const index = await indexLayer(Readable.from([bytes]), { what: 'layer', digest: digestOf(bytes) });
      assert.deepEqual(index.entries.map((e) => [e.path, e.type, e.size]), [['a', 'file', 5], ['d', 'directory', 0], ['d/b', 'file', 6]]);
      assert.equal(index.entries[2]?.sha256, digestOf('second').slice('sha256:'.length));
      assert.equal(index.contentBytes, 11);
    }
  });

  it('reads one file by its position and stops there', async () => {
    const bytes = gzipSync(await layerTar(files));
    assert.equal((await readLayerFile(Readable.from([bytes]), 2, { what: 'layer', maxBytes: 100 })).toString(), 'second');
    await assert.rejects(readLayerFile(Readable.from([bytes]), 2, { what: 'layer', maxBytes: 3 }), /more than the 3 bytes/);
  });

  it('refuses content whose digest differs from the one asked for', async () => {
    const bytes = await layerTar(files);
    await assert.rejects(indexLayer(Readable.from([bytes]), { what: 'layer 1', digest: digestOf('other') }), /layer 1 has digest sha256:\w+, not sha256:/);
  });

  it('says clearly when a layer is not an archive', async () => {
    await assert.rejects(indexLayer(Readable.from([gzipSync(Buffer.from('x'.repeat(600)))]), { what: 'layer 3', digest: '' }), /layer 3 is not a readable tar archive/);
  });

  it('reads zstd where the runtime can, and otherwise says what to do', async function () {
    // zstd frame magic followed by junk: enough to tell the two runtimes apart.
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    if (zstdAvailable()) await assert.rejects(indexLayer(Readable.from([zstd]), { what: 'layer 2', digest: '' }), /layer 2/);
    else await assert.rejects(indexLayer(Readable.from([zstd]), { what: 'layer 2', digest: '' }), /layer 2 is compressed with zstd, which this Node\.js .* cannot read; push the image with gzip layers/);
  });
});
