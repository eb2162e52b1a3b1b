import { backoffDelay, reconnectPolicy } from '../../lib/client/backoff';

describe('reconnect backoff', () => {
  it('has defaults: 500 ms initial cap, doubling, up to 30 s', () => {
    expect(reconnectPolicy()).toEqual({ initialDelay: 500, maxDelay: 30_000, factor: 2 });
  });

  it('grows the cap exponentially up to maxDelay (full jitter scales the whole cap)', () => {
    const policy = reconnectPolicy({ initialDelay: 100, maxDelay: 1000, factor: 2 });
    const atTop = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((attempt) => backoffDelay(attempt, policy, atTop))).toEqual([
      99, 199, 399, 799, 999, 999, 999, 999,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });

  it('stays within [0, cap] with the real random source', () => {
    const policy = reconnectPolicy({ initialDelay: 50, maxDelay: 400 });
    for (let attempt = 1; attempt < 200; attempt++) {
      const delay = backoffDelay(attempt, policy);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(400, 50 * 2 ** (attempt - 1)));
    }
  });

  it('handles a zero initial delay without NaN', () => {
    expect(backoffDelay(5000, reconnectPolicy({ initialDelay: 0, maxDelay: 0 }))).toBe(0);
  });

  it.each([
    [{ initialDelay: -1 }, /initialDelay/],
    [{ maxDelay: Number.NaN }, /maxDelay/],
    [{ initialDelay: 100, maxDelay: 50 }, /must not be below/],
    [{ factor: 0.5 }, /factor/],
  ])('rejects %j with a RangeError', (options, message) => {
    expect(() => reconnectPolicy(options)).toThrow(RangeError);
    expect(() => reconnectPolicy(options)).toThrow(message);
  });
});
