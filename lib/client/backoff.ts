/** How a reconnecting listener waits between attempts: capped exponential backoff with full jitter. */
export interface ReconnectOptions {
  /** The cap for the first retry, in milliseconds; default 500. */
  readonly initialDelay?: number;
  /** The largest cap, in milliseconds; default 30000. */
  readonly maxDelay?: number;
  /** How much the cap grows per consecutive failure; default 2. */
  readonly factor?: number;
}

/** {@link ReconnectOptions} with every default applied and checked. */
export interface ReconnectPolicy {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
}

/**
 * Applies the defaults and checks the values. Errors (RangeError): a delay that is not a
 * finite number ≥ 0, a `maxDelay` below `initialDelay`, a `factor` below 1.
 */
export function reconnectPolicy(options: ReconnectOptions = {}): ReconnectPolicy {
  const initialDelay = options.initialDelay ?? 500;
  const maxDelay = options.maxDelay ?? Math.max(30_000, initialDelay);
  const factor = options.factor ?? 2;
  for (const [name, value] of [
    ['initialDelay', initialDelay],
    ['maxDelay', maxDelay],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`reconnect.${name} must be a finite number of milliseconds ≥ 0, got ${String(value)}`);
    }
  }
  if (maxDelay < initialDelay)
    throw new RangeError(`reconnect.maxDelay (${maxDelay}) must not be below reconnect.initialDelay (${initialDelay})`);
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`reconnect.factor must be a finite number ≥ 1, got ${String(factor)}`);
  }
  return { initialDelay, maxDelay, factor };
}

/**
 * The wait before retry number `attempt` (1 after the first failure): a uniformly random
 * delay between 0 and `min(maxDelay, initialDelay × factor^(attempt − 1))` ("full jitter", so
 * that many clients cut off at once do not come back at once).
 */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const grown = policy.initialDelay * policy.factor ** exponent; // NaN for 0 × Infinity
  const cap = Number.isNaN(grown) ? 0 : Math.min(policy.maxDelay, grown);
  return Math.floor(random() * cap);
}
