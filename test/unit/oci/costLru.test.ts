import * as assert from 'node:assert/strict';
import { CostLru } from '../../../src/oci/costLru';

describe('CostLru (the caches of the registry server, the tree and the image browser)', () => {
  it('forgets the least recently used entries first once the budget is passed', () => {
    const lru = new CostLru<string>(3);
    lru.set('a', 'A', 1);
    lru.set('b', 'B', 1);
    lru.set('c', 'C', 1);
    assert.equal(lru.get('a'), 'A'); // a is now the most recently used
    lru.set('d', 'D', 2);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => lru.has(k)), [true, false, false, true]);
    assert.equal(lru.cost, 3);
  });

  it('replaces a value and its cost under the same key', () => {
    const lru = new CostLru<string>(10);
    lru.set('a', 'old', 4);
    lru.set('a', 'new', 6);
    assert.equal(lru.get('a'), 'new');
    assert.equal(lru.cost, 6);
    assert.equal(lru.size, 1);
  });

  it('keeps neither a value over the whole budget nor the one it replaces, so a stale value is never served', () => {
    const lru = new CostLru<string[]>(5);
    lru.set('repo', ['v1'], 2);
    lru.set('repo', ['v1', 'v2', 'v3', 'v4', 'v5'], 6);
    assert.equal(lru.get('repo'), undefined);
    assert.equal(lru.cost, 0);
  });

  it('deletes an entry and gives its cost back', () => {
    const lru = new CostLru<number>(4);
    lru.set('a', 1, 3);
    lru.delete('a');
    lru.delete('missing');
    assert.equal(lru.has('a'), false);
    assert.equal(lru.cost, 0);
    lru.set('b', 2, 4);
    assert.equal(lru.get('b'), 2);
  });

  it('keeps nothing with a budget of 0 (a registry on a shared bucket caches no links)', () => {
    const lru = new CostLru<string>(0);
    lru.set('a', 'A', 1);
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.size, 0);
  });
});
