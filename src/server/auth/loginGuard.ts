/**
 * What stands between a password guesser and bcrypt. Three rules, each aimed at one attack, none of
 * which refuses a right password because of what other clients did:
 *
 * - One client guessing one account (same address, same user name): after `maxFailuresPerMinute`
 *   wrong passwords it gets 429 without a check, right password or not, until the minute has passed.
 *   Only that pair is stopped: other users behind the same address, and the same user elsewhere, log in.
 * - Many addresses guessing one account, or one address trying many accounts: once a user name or an
 *   address has that many failures, its checks run one at a time, in order, so guessing goes no faster
 *   than one bcrypt; a right password waits its turn and is accepted. Only when `maxWaitingPerKey`
 *   checks are already queued for it is the next one told to retry (429).
 * - Everyone together: at most `maxConcurrentChecks` bcrypt comparisons run at once, so a flood of
 *   logins cannot take every core from the clients that are pushing and pulling.
 */
import { FailedLoginLimiter } from '../limits/limits';

/** Waiting room for a fixed number of slots: FIFO, with a cap on how many may wait. */
export class WaitingSlots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly capacity: number, readonly maxWaiting: number) {}

  get busy(): boolean {
    return this.used > 0 || this.waiting.length > 0;
  }

  get inUse(): number {
    return this.used;
  }

  /** A release function once a slot is free; undefined at once when the waiting room is full. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.used < this.capacity) this.used++;
    else if (this.waiting.length >= this.maxWaiting) return undefined;
    // The slot is handed over by the releaser, so `used` stays counted for the waiter.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.used--;
    };
  }
}

export type LoginOutcome = 'ok' | 'wrong' | { limited: true; retryAfterSeconds: number; message: string };

export interface LoginGuardOptions {
  maxFailuresPerMinute: number;
  maxConcurrentChecks: number;
  maxWaitingPerKey?: number;
  maxWaitingChecks?: number;
}

export class LoginGuard {
  private readonly failures: FailedLoginLimiter;
  private readonly checks: WaitingSlots;
  /** One lane per user name or address that has used up its failures. */
  private readonly lanes = new Map<string, WaitingSlots>();
  private readonly maxWaitingPerKey: number;

  constructor(opts: LoginGuardOptions, private readonly nowMs: () => number = Date.now) {
    this.failures = new FailedLoginLimiter(opts.maxFailuresPerMinute);
    this.checks = new WaitingSlots(opts.maxConcurrentChecks, opts.maxWaitingChecks ?? 1024);
    this.maxWaitingPerKey = opts.maxWaitingPerKey ?? 32;
  }

  /** Password checks running now. */
  get checksInFlight(): number {
    return this.checks.inUse;
  }

  /**
   * Runs `verify` (a bcrypt comparison) under the rules above. `remembered` is a cheap check of
   * credentials verified before: a hit skips bcrypt and every queue, but never the pair's own limit,
   * or a client would get a free oracle while it is locked out.
   */
  async check(user: string, address: string, remembered: () => boolean, verify: () => Promise<boolean>): Promise<LoginOutcome> {
    const now = this.nowMs();
    const pair = `pair\0${address}\0${user}`;
    const pairRetry = this.failures.retryAfterSeconds(pair, now);
    if (pairRetry > 0) return { limited: true, retryAfterSeconds: pairRetry, message: `too many failed logins for this user from this address; try again in ${pairRetry} s` };
    if (remembered()) return 'ok';

    const hot = [`user\0${user}`, `addr\0${address}`].filter((k) => this.failures.retryAfterSeconds(k, now) > 0);
    const releases: Array<() => void> = [];
    try {
      for (const key of hot) {
        const lane = this.lanes.get(key) ?? new WaitingSlots(1, this.maxWaitingPerKey);
        this.lanes.set(key, lane);
        const release = await lane.acquire();
        if (!release) return { limited: true, retryAfterSeconds: 1, message: 'too many logins are waiting for this user name or address; try again in 1 s' };
        releases.push(() => {
          release();
          if (!lane.busy && this.lanes.get(key) === lane) this.lanes.delete(key);
        });
      }
      const slot = await this.checks.acquire();
      if (!slot) return { limited: true, retryAfterSeconds: 1, message: 'the registry is busy checking passwords; try again in 1 s' };
      releases.push(slot);
      if (await verify()) return 'ok';
      const failedAt = this.nowMs();
      for (const key of [pair, `user\0${user}`, `addr\0${address}`]) this.failures.recordFailure(key, failedAt);
      return 'wrong';
    } finally {
      for (const release of releases.reverse()) release();
    }
  }
}
