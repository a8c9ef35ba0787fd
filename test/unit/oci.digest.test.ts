import * as assert from 'node:assert/strict';
import { digestOf, Digester, isDigest, parseDigest } from '../../src/oci/digest';
import { isRepositoryName, isTag } from '../../src/oci/names';

describe('oci digests', () => {
  const sha256Empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const table: Array<{ input: string; ok: boolean; problem?: string }> = [
    { input: sha256Empty, ok: true },
    { input: `sha512:${'a'.repeat(128)}`, ok: true },
    { input: `sha256:${'a'.repeat(63)}`, ok: false, problem: 'bad-length' },
    { input: `sha256:${'A'.repeat(64)}`, ok: false, problem: 'bad-length' },
    { input: `md5:${'a'.repeat(32)}`, ok: false, problem: 'unsupported-algorithm' },
    { input: 'sha256', ok: false, problem: 'syntax' },
    { input: `sha256:../${'a'.repeat(61)}`, ok: false, problem: 'syntax' },
  ];
  for (const { input, ok, problem } of table) {
    it(`${ok ? 'accepts' : `rejects (${problem})`} ${input.slice(0, 24)}…`, () => {
      assert.equal(isDigest(input), ok);
      const parsed = parseDigest(input);
      if (problem) assert.deepEqual(parsed, { problem });
    });
  }

  it('computes the same digest streaming as at once', () => {
    const d = new Digester('sha256');
    d.update(Buffer.from('hello '));
    d.update(Buffer.from('world'));
    assert.equal(d.digest(), digestOf('hello world'));
    assert.equal(d.size, 11);
    assert.equal(digestOf(''), sha256Empty);
  });
});

describe('oci names', () => {
  const names: Array<[string, boolean]> = [
    ['library/busybox', true], ['a', true], ['a__b', true], ['a---b/c.d', true],
    ['A', false], ['a/', false], ['/a', false], ['a//b', false], ['..', false], ['a/../b', false], ['a___b', false],
  ];
  for (const [name, ok] of names) it(`${ok ? 'accepts' : 'rejects'} repository name "${name}"`, () => assert.equal(isRepositoryName(name), ok));
  it('rejects a name longer than 255 characters with its host', () => {
    assert.equal(isRepositoryName('a'.repeat(250), 'localhost:5000'), false);
  });
  const tags: Array<[string, boolean]> = [['latest', true], ['_x', true], ['v1.0-rc.1', true], ['.x', false], ['-x', false], ['a'.repeat(128), true], ['a'.repeat(129), false]];
  for (const [tag, ok] of tags) it(`${ok ? 'accepts' : 'rejects'} tag "${tag.slice(0, 20)}"`, () => assert.equal(isTag(tag), ok));
});
