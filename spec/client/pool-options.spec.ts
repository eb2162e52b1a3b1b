// createPool's options resolved: what the listener's reconnect falls back to.
import { resolvePoolOptions } from '../../lib/client/pool-options';

describe('resolvePoolOptions', () => {
  it("gives the listener the pool's connectRetry when its own reconnect is absent or explicitly undefined", () => {
    const connectRetry = { initialDelay: 10, maxDelay: 50 };
    expect(resolvePoolOptions({ connectRetry }).listener.reconnect).toEqual(connectRetry);
    expect(resolvePoolOptions({ connectRetry, listener: { reconnect: undefined } }).listener.reconnect).toEqual(connectRetry);
    const own = { initialDelay: 1, maxDelay: 2 };
    expect(resolvePoolOptions({ connectRetry, listener: { reconnect: own } }).listener.reconnect).toEqual(own);
  });
});
