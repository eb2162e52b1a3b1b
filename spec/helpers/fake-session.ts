// A ProtocolConnection over a FakeTransport, for unit specs of the protocol state machines: the
// spec is the server. The CancelRequest sender is injected (no socket is opened): the spec sees
// each request and says when the server has acted on it.
import { Subject, type Observable } from 'rxjs';
import { ConnectionError } from '../../lib';
import {
  ExtendedQueryConversation,
  ProtocolConnection,
  StartupConversation,
  type BackendKey,
  type QuerySink,
  type StartupSettings,
  type StatementCache,
} from '../../lib/protocol';
import { dataRowTexts, type BindParameter, type FieldDescription } from '../../lib/wire';
import { acceptLogin } from './backend-messages';
import { FakeTransport } from './fake-transport';

/** A connection, its fake transport and the CancelRequests it sent. */
export interface FakeSession {
  readonly transport: FakeTransport;
  readonly connection: ProtocolConnection;
  /** The CancelRequests sent, in order; complete one's `done` when the server has acted on it. */
  readonly cancels: { readonly key: BackendKey; readonly done: Subject<void> }[];
}

/** Startup settings for a user `ada` on database `app`; `password` as given (default: none). */
export function startupSettings(overrides: Partial<StartupSettings> & { readonly passwordText?: string } = {}): StartupSettings {
  const { passwordText, ...rest } = overrides;
  return {
    user: 'ada',
    parameters: { database: 'app' },
    password: () => Promise.resolve(passwordText),
    gssKrbToken: undefined,
    channelBinding: 'prefer',
    requireAuth: undefined,
    ...rest,
  };
}

/** Sessions made since the last {@link destroyFakeSessions}. */
const sessions = new Set<ProtocolConnection>();

/** Tears down every session made so far (their timers too: a pending cancel's bound): for afterEach. */
export function destroyFakeSessions(): void {
  for (const connection of sessions) connection.destroy(new ConnectionError('the spec ended', { code: '08006' }));
  sessions.clear();
}

/** A ProtocolConnection over a new FakeTransport, not logged in yet (see {@link destroyFakeSessions}). */
export function fakeSession(
  transport = new FakeTransport(),
  options: { readonly cancelTimeout?: number; readonly maxMessageSize?: number } = {},
): FakeSession {
  const cancels: { key: BackendKey; done: Subject<void> }[] = [];
  const connection = new ProtocolConnection(transport, {
    maxMessageSize: options.maxMessageSize ?? 1024 * 1024,
    description: 'fake',
    cancelTimeout: options.cancelTimeout ?? 5_000,
    sendCancelRequest: (key): Observable<void> => {
      const done = new Subject<void>();
      cancels.push({ key, done });
      return done;
    },
  });
  sessions.add(connection);
  return { transport, connection, cancels };
}

/** How a startup conversation ended, once it has. */
export interface StartupOutcome {
  readonly ready: boolean;
  readonly error: ConnectionError | undefined;
}

/** Enqueues a StartupConversation with `settings` and returns its outcome so far (read it after pushing the server's replies). */
export function startLogin(session: FakeSession, settings: StartupSettings = startupSettings()): StartupOutcome {
  const outcome = { ready: false, error: undefined as ConnectionError | undefined };
  session.connection.enqueue(
    new StartupConversation(session.connection, settings, {
      onReady: () => (outcome.ready = true),
      onError: (error) => (outcome.error = error),
    }),
  );
  return outcome;
}

/** A session logged in under trust (BackendKeyData 4242 / 0x5eed), with the StartupMessage already taken. */
export function openFakeSession(transport = new FakeTransport(), options: { readonly cancelTimeout?: number } = {}): FakeSession {
  const session = fakeSession(transport, options);
  const outcome = startLogin(session);
  transport.push(acceptLogin());
  if (!outcome.ready) throw new Error(`fake session: login failed: ${String(outcome.error)}`);
  transport.takeWritten();
  return session;
}

/** Resolves after the current tick's writes (the connection writes enqueued requests at the end of the tick). */
export function endOfTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The text values of one row as a QuerySink receives it: the one place the unit specs know how
 * row values travel from the protocol layer up (adapt here when that changes).
 */
export function rowTexts(...row: Parameters<QuerySink['row']>): (string | null)[] {
  return dataRowTexts(row[0]);
}

/** What a QuerySink received, in order. */
export type QueryEvent =
  | { readonly kind: 'fields'; readonly names: readonly string[] }
  | { readonly kind: 'row'; readonly values: readonly (string | null)[] }
  | { readonly kind: 'complete'; readonly tag: string }
  | { readonly kind: 'error'; readonly error: Error };

/** A QuerySink that records what it receives; `retry` and `pushback` as given. */
export function recordingQuerySink(hooks: Pick<QuerySink, 'retry' | 'pushback'> = {}): {
  readonly sink: QuerySink;
  readonly events: QueryEvent[];
} {
  const events: QueryEvent[] = [];
  const sink: QuerySink = {
    fields: (fields: readonly FieldDescription[]) => events.push({ kind: 'fields', names: fields.map((field) => field.name) }),
    row: (...row) => events.push({ kind: 'row', values: rowTexts(...row) }),
    complete: (tag) => events.push({ kind: 'complete', tag }),
    error: (error) => events.push({ kind: 'error', error }),
    ...hooks,
  };
  return { sink, events };
}

/**
 * Enqueues an ExtendedQueryConversation for `sql` on the session with a {@link recordingQuerySink}
 * (statement cache and pushback as given) and returns it with the events recorded so far.
 *
 * @example
 * const { conversation, events } = runQuery(openFakeSession(), 'SELECT 1');
 */
export function runQuery(
  session: FakeSession,
  sql: string,
  parameters: readonly BindParameter[] = [],
  options: { readonly statements?: StatementCache; readonly pushback?: () => Subject<void> } = {},
): { conversation: ExtendedQueryConversation; events: QueryEvent[] } {
  const { sink, events } = recordingQuerySink(options.pushback === undefined ? {} : { pushback: options.pushback });
  const conversation = new ExtendedQueryConversation(sql, parameters, sink, options.statements);
  session.connection.enqueue(conversation);
  return { conversation, events };
}
