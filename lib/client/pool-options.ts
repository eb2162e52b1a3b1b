import { reconnectPolicy, type ReconnectOptions, type ReconnectPolicy } from './backoff';
import type { ListenOptions } from './listener';

/** Options of {@link createPool}. Durations are in milliseconds; `Infinity` means "no limit". */
export interface PoolOptions {
  /** The most connections the pool keeps open for requests (default 10). The notification listener is not counted. */
  readonly max?: number;
  /**
   * Connections kept open once the pool has been used, even when idle (default 0); refilled
   * after failures and reaping.
   */
  readonly min?: number;
  /** An idle connection above `min` is closed after this long unused (default 30000). */
  readonly idleTimeout?: number;
  /**
   * A connection is replaced after about this long (default 3600000, one hour): each gets a
   * lifetime between 90 % and 100 % of it, so connections opened together do not all expire
   * together. One past its lifetime is closed when it is next released, never mid-request.
   */
  readonly maxLifetime?: number;
  /**
   * How long a request may wait for a connection before it fails with an AcquireTimeoutError
   * naming the pool's state (default 30000). Nothing is sent for a request that times out.
   */
  readonly acquireTimeout?: number;
  /**
   * The wait between connection attempts after one failed (the server is down, starting up,
   * or out of connections): capped exponential backoff with full jitter; while it lasts one
   * attempt at a time is made. Default: 100 ms growing ×2 up to 5000 ms.
   */
  readonly connectRetry?: ReconnectOptions;
  /**
   * How many single statements (`query`, `execute`, `all`, `first`, `run`) may be in flight on
   * one connection (default 1: none pipelined). Above 1, such a statement is written right
   * behind those running on the busiest connection that still has room (each with its own
   * Sync: a failure fails only its own request), before an idle connection is taken or a new
   * one opened: the pool then uses as few connections as the load needs, and the statements
   * of one tick go to the server in one write. It is meant for short statements (postgres.js
   * pipelines up to 100 by default): a connection whose statements have not moved for a couple
   * of milliseconds, once this process has read what arrived, takes nothing more behind them
   * (those already pipelined wait); a stall of the process's own event loop does not count.
   * Never pipelined, nor pipelined behind: a statement that could open a transaction (`BEGIN`,
   * `START TRANSACTION`), a `query` with `pushback`, `simpleQuery`, COPY, `withConnection` and
   * `transaction`.
   */
  readonly pipeline?: number;
  /**
   * The notification listener's settings (heartbeat, attempt timeout). Its reconnect backoff
   * is `connectRetry` unless given here.
   */
  readonly listener?: ListenOptions;
}

/** {@link PoolOptions} with every default applied and checked. */
export interface ResolvedPoolOptions {
  readonly max: number;
  readonly min: number;
  readonly idleTimeout: number;
  readonly maxLifetime: number;
  readonly acquireTimeout: number;
  readonly pipeline: number;
  readonly connectRetry: ReconnectPolicy;
  readonly listener: ListenOptions;
}

/** The defaults, documented on {@link PoolOptions}. */
export const defaultPoolOptions = {
  max: 10,
  min: 0,
  idleTimeout: 30_000,
  maxLifetime: 3_600_000,
  acquireTimeout: 30_000,
  pipeline: 1,
  connectRetry: { initialDelay: 100, maxDelay: 5_000, factor: 2 },
} as const;

/** setTimeout's limit: a longer delay fires at once. */
const maxTimerDelay = 2_147_483_647;

/**
 * Applies the defaults and checks every option, without I/O.
 *
 * Errors: TypeError for options (or `listener`, `connectRetry`, `listener.reconnect`) that are
 * not an object, and for an option name that does not exist (`idleTimeoutMillis`); RangeError naming the option for
 * `max` not an integer ≥ 1, `min` not an integer from 0 to `max`, `pipeline` not an integer
 * ≥ 1, a duration that is not a number > 0 (at most 2147483647, or `Infinity`; the listener's
 * too), and bad `connectRetry` / `listener.reconnect` values.
 *
 * @example
 * resolvePoolOptions({ max: 5 }).idleTimeout; // 30000
 * resolvePoolOptions({ min: 3, max: 2 });      // throws RangeError
 */
export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createPool: options must be an object');
  knownKeys('', options, poolOptionNames);
  const max = options.max ?? defaultPoolOptions.max;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new RangeError(`createPool: max must be an integer ≥ 1, got ${String(max)}`);
  }
  const min = options.min ?? defaultPoolOptions.min;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > max) {
    throw new RangeError(`createPool: min must be an integer from 0 to max (${max}), got ${String(min)}`);
  }
  const pipeline = options.pipeline ?? defaultPoolOptions.pipeline;
  if (typeof pipeline !== 'number' || !Number.isInteger(pipeline) || pipeline < 1) {
    throw new RangeError(`createPool: pipeline must be an integer ≥ 1, got ${String(pipeline)}`);
  }
  const listener = options.listener ?? {};
  if (typeof listener !== 'object' || listener === null) throw new TypeError('createPool: listener must be an object');
  knownKeys('listener.', listener, listenerOptionNames);
  if (listener.heartbeatInterval !== undefined) duration('listener.heartbeatInterval', listener.heartbeatInterval);
  if (listener.connectTimeout !== undefined) duration('listener.connectTimeout', listener.connectTimeout);
  if (listener.reconnect !== undefined) {
    objectOption('listener.reconnect', listener.reconnect);
    try {
      reconnectPolicy(listener.reconnect);
    } catch (error) {
      throw new RangeError(`createPool: listener.reconnect: ${(error as Error).message}`, { cause: error });
    }
  }
  // Spread into the defaults below, a number or string would otherwise vanish without a word.
  if (options.connectRetry != null) objectOption('connectRetry', options.connectRetry);
  let connectRetry: ReconnectPolicy;
  try {
    connectRetry = reconnectPolicy({ ...defaultPoolOptions.connectRetry, ...options.connectRetry });
  } catch (error) {
    throw new RangeError(`createPool: connectRetry: ${(error as Error).message}`, { cause: error });
  }
  return {
    max,
    min,
    idleTimeout: duration('idleTimeout', options.idleTimeout ?? defaultPoolOptions.idleTimeout),
    maxLifetime: duration('maxLifetime', options.maxLifetime ?? defaultPoolOptions.maxLifetime),
    acquireTimeout: duration('acquireTimeout', options.acquireTimeout ?? defaultPoolOptions.acquireTimeout),
    pipeline,
    connectRetry,
    // An explicit `reconnect: undefined` falls back too, as an absent one does.
    listener: { ...listener, reconnect: listener.reconnect ?? options.connectRetry ?? defaultPoolOptions.connectRetry },
  };
}

const poolOptionNames: readonly string[] = [
  'max',
  'min',
  'idleTimeout',
  'maxLifetime',
  'acquireTimeout',
  'connectRetry',
  'pipeline',
  'listener',
];
const listenerOptionNames: readonly string[] = ['heartbeatInterval', 'connectTimeout', 'reconnect'];

/** A misspelt option (or another pool's name for it) would silently run with the default. */
function knownKeys(prefix: string, options: object, names: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!names.includes(key)) {
      throw new TypeError(`createPool: unknown pool option ${JSON.stringify(prefix + key)} (known: ${names.join(', ')})`);
    }
  }
}

function objectOption(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `createPool: ${name} must be an object ({ initialDelay, maxDelay, factor }), got ${value === null ? 'null' : typeof value}`,
    );
  }
}

function duration(name: string, value: unknown): number {
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > maxTimerDelay) {
    throw new RangeError(
      `createPool: ${name} must be a number of milliseconds > 0 and ≤ ${maxTimerDelay}, or Infinity; got ${String(value)}`,
    );
  }
  return value;
}
