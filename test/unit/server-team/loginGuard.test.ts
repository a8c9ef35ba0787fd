import * as assert from 'node:assert/strict';
import { LoginGuard, WaitingSlots } from '../../../src/server/auth/loginGuard';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('server auth: login guard', () => {
  it('runs at most maxConcurrentChecks password checks at once, the rest in order', async () => {
    const guard = new LoginGuard({ maxFailuresPerMinute: 100, maxConcurrentChecks: 2 });
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const verify = (i: number) => async (): Promise<boolean> => {
      running++;
      most = Math.max(most, running);
      await tick();
      order.push(i);
      running--;
      return true;
    };
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => guard.check(`u${i}`, '10.0.0.1', () => false, verify(i))));
    assert.deepEqual(outcomes, Array(6).fill('ok'));
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  });

  it('refuses a limited pair even its remembered right password, and only that pair, until the minute has passed', async () => {
    let now = 0;
    const guard = new LoginGuard({ maxFailuresPerMinute: 2, maxConcurrentChecks: 1 }, () => now);
    for (let i = 0; i < 2; i++) assert.equal(await guard.check('a', 'x', () => false, async () => false), 'wrong');
    const limited = await guard.check('a', 'x', () => true, async () => true);
    assert.ok(typeof limited === 'object' && limited.retryAfterSeconds === 60);
    assert.equal(await guard.check('b', 'x', () => false, async () => true), 'ok', 'another user at the address');
    now = 60_000;
    assert.equal(await guard.check('a', 'x', () => false, async () => true), 'ok', 'after the minute');
  });

  const slots: Array<{ what: string; capacity: number; maxWaiting: number; asked: number; granted: number }> = [
    { what: 'grants up to capacity at once', capacity: 2, maxWaiting: 0, asked: 3, granted: 2 },
    { what: 'queues up to maxWaiting more', capacity: 1, maxWaiting: 2, asked: 5, granted: 3 },
  ];
  for (const t of slots) {
    it(`waiting slots: ${t.what}`, async () => {
      const s = new WaitingSlots(t.capacity, t.maxWaiting);
      const got = await Promise.all(Array.from({ length: t.asked }, async () => {
        const release = await s.acquire();
        await tick();
        release?.();
        return release !== undefined;
      }));
      assert.equal(got.filter(Boolean).length, t.granted);
      assert.equal(s.busy, false);
    });
  }
});
