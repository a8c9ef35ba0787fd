import * as assert from 'node:assert/strict';
import { checkDigest, checkName, lexicalCompare, pageOf, parseContentRange, parseRange, parseReference, sortLexically } from '../../../src/server/handler';
import { RegistryError } from '../../../src/server/errors';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof RegistryError, `expected a RegistryError, got ${String(e)}`);
    return e.code;
  }
}

describe('server handler: request validation', () => {
  const names: Array<{ input: string; expected?: string }> = [
    { input: 'a' },
    { input: 'library/busybox' },
    { input: 'a.b_c__d---e/f0' },
    { input: 'a/b/c/d/e' },
    { input: 'A', expected: 'NAME_INVALID' },
    { input: '../etc', expected: 'NAME_INVALID' },
    { input: 'a/../b', expected: 'NAME_INVALID' },
    { input: 'a//b', expected: 'NAME_INVALID' },
    { input: '/a', expected: 'NAME_INVALID' },
    { input: 'a/', expected: 'NAME_INVALID' },
    { input: 'a\0b', expected: 'NAME_INVALID' },
    { input: '.hidden', expected: 'NAME_INVALID' },
    { input: 'a_', expected: 'NAME_INVALID' },
    { input: 'a___b', expected: 'NAME_INVALID' },
    { input: 'x'.repeat(255) },
    { input: 'x'.repeat(256), expected: 'NAME_INVALID' },
  ];
  for (const { input, expected } of names) {
    it(`${expected ? 'rejects' : 'accepts'} the repository name ${JSON.stringify(input.slice(0, 40))}${input.length > 40 ? `… (${input.length})` : ''}`, () => {
      assert.equal(codeOf(() => checkName(input)), expected);
    });
  }

  it('counts the host in the 255-character limit', () => {
    assert.equal(codeOf(() => checkName('x'.repeat(240), 'registry.example.org:5000')), 'NAME_INVALID');
    assert.equal(codeOf(() => checkName('x'.repeat(229), 'registry.example.org:5000')), undefined);
  });

  const refs: Array<{ input: string; expected: string }> = [
    { input: 'latest', expected: 'tag' },
    { input: '_x', expected: 'tag' },
    { input: 'v1.2.3-rc_1', expected: 'tag' },
    { input: 'a'.repeat(128), expected: 'tag' },
    { input: 'a'.repeat(129), expected: 'MANIFEST_INVALID' },
    { input: '.x', expected: 'MANIFEST_INVALID' },
    { input: '-x', expected: 'MANIFEST_INVALID' },
    { input: '..', expected: 'MANIFEST_INVALID' },
    { input: 'a b', expected: 'MANIFEST_INVALID' },
    { input: `sha256:${'a'.repeat(64)}`, expected: 'digest' },
    { input: `sha512:${'b'.repeat(128)}`, expected: 'digest' },
    { input: `sha256:${'a'.repeat(63)}`, expected: 'DIGEST_INVALID' },
    { input: `md5:${'a'.repeat(32)}`, expected: 'DIGEST_INVALID' },
    { input: 'sha256:../../x', expected: 'DIGEST_INVALID' },
  ];
  for (const { input, expected } of refs) {
    it(`reads the reference ${JSON.stringify(input.slice(0, 30))} as ${expected}`, () => {
      let got: string;
      try {
        const r = parseReference(input);
        got = 'tag' in r ? 'tag' : 'digest';
      } catch (e) {
        got = (e as RegistryError).code;
      }
      assert.equal(got, expected);
    });
  }

  it('reports a missing digest as DIGEST_INVALID', () => {
    assert.equal(codeOf(() => checkDigest(null)), 'DIGEST_INVALID');
    assert.equal(codeOf(() => checkDigest('')), 'DIGEST_INVALID');
  });
});

describe('server handler: paging', () => {
  it('orders case-insensitively, ties by byte order', () => {
    assert.deepEqual(['b', 'B', 'a', 'C', 'A'].sort(lexicalCompare), ['A', 'a', 'B', 'b', 'C']);
  });

  const list = ['a', 'b', 'c', 'd', 'e'];
  const pages: Array<{ n?: number; last?: string; items: string[]; more: boolean }> = [
    { items: list, more: false },
    { n: 0, items: [], more: false },
    { n: 2, items: ['a', 'b'], more: true },
    { n: 2, last: 'b', items: ['c', 'd'], more: true },
    { n: 2, last: 'd', items: ['e'], more: false },
    { n: 5, items: list, more: false },
    { last: 'c', items: ['d', 'e'], more: false },
    { last: 'bb', items: ['c', 'd', 'e'], more: false },
    { n: 3, last: 'z', items: [], more: false },
  ];
  for (const p of pages) {
    it(`pages n=${String(p.n)} last=${String(p.last)} to ${JSON.stringify(p.items)}${p.more ? ' with more' : ''}`, () => {
      assert.deepEqual(pageOf(list, p.n, p.last), { items: p.items, more: p.more });
    });
  }
});

describe('server handler: ranges', () => {
  const ranges: Array<{ header?: string; size: number; expected: ReturnType<typeof parseRange> }> = [
    { size: 10, expected: undefined },
    { header: 'bytes=0-4', size: 10, expected: { start: 0, end: 4 } },
    { header: 'bytes=5-', size: 10, expected: { start: 5, end: 9 } },
    { header: 'bytes=-3', size: 10, expected: { start: 7, end: 9 } },
    { header: 'bytes=8-100', size: 10, expected: { start: 8, end: 9 } },
    { header: 'bytes=10-12', size: 10, expected: 'unsatisfiable' },
    { header: 'bytes=-0', size: 10, expected: 'unsatisfiable' },
    { header: 'bytes=0-1,4-5', size: 10, expected: undefined },
    { header: 'items=0-1', size: 10, expected: undefined },
    { header: 'bytes=5-2', size: 10, expected: undefined },
  ];
  for (const r of ranges) {
    it(`reads Range ${JSON.stringify(r.header)} of ${r.size} bytes as ${JSON.stringify(r.expected)}`, () => {
      assert.deepEqual(parseRange(r.header, r.size), r.expected);
    });
  }

  const contentRanges: Array<{ header?: string; expected: ReturnType<typeof parseContentRange> }> = [
    { expected: undefined },
    { header: '0-99', expected: { start: 0, end: 99 } },
    { header: 'bytes 100-199', expected: { start: 100, end: 199 } },
    { header: 'bytes=100-199/300', expected: { start: 100, end: 199 } },
    { header: '100', expected: 'invalid' },
    { header: 'a-b', expected: 'invalid' },
  ];
  for (const r of contentRanges) {
    it(`reads Content-Range ${JSON.stringify(r.header)} as ${JSON.stringify(r.expected)}`, () => {
      assert.deepEqual(parseContentRange(r.header), r.expected);
    });
  }
});

describe('server handler: sorting', () => {
  it('sorts lists the way lexicalCompare orders them', () => {
    const list = ['b', 'B', 'a', 'C', 'A', '_x', '1', 'a.b', 'a-b', 'ab'];
    assert.deepEqual(sortLexically(list), [...list].sort(lexicalCompare));
  });
});
