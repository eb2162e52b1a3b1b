import type { ObservableInput, Subscription } from 'rxjs';
import { PostgresError, ProtocolError, QueryShapeError, type ErrorFields } from '../errors';
import {
  checkNoNul,
  copyFail,
  dataRowLength,
  describe,
  execute,
  flush,
  parse,
  sync,
  type BackendMessage,
  type BindParameter,
  type DataRow,
  type FieldDescription,
  type FormatCode,
} from '../wire';
import { BindTemplate } from '../wire/frontend-messages';
import { deliveringPushback, type Conversation, type ConversationChannel } from './conversation';
import { bindParameterCountError, parameterCountError } from './parameter-count-error';
import {
  bindTemplateOf,
  cachedStatementErrorFields,
  isStaleStatementCode,
  setResultFormats,
  type CachedStatement,
  type StatementCache,
} from './statement-cache';
import { hasPlannedColumns } from './statement-keywords';

/**
 * How a batch ends its parameter sets: `each` writes a Sync after every set (each its own
 * implicit transaction, as separate queries), `once` one Sync after the last (all sets in one
 * implicit transaction: all or nothing).
 */
export type BatchSync = 'each' | 'once';

/** Receives what a batch produces, in order, and supplies its parameter sets. */
export interface BatchSink {
  /**
   * The next parameter set, encoded for Bind, or undefined when there are no more. Asked only
   * as the set is about to be written. What it throws (a ParameterError) stops the batch.
   */
  nextSet(): readonly BindParameter[] | undefined;
  /**
   * The result formats to ask for a cached statement whose columns are known before its Bind
   * (see QuerySink.resultFormats), or undefined for text.
   */
  resultFormats?(fields: readonly FieldDescription[]): readonly FormatCode[] | undefined;
  /** The columns, before the first row of a set whose columns differ from the previous set's. */
  fields(fields: readonly FieldDescription[], formats?: readonly FormatCode[]): void;
  /** One DataRow of the current set, read during this call. */
  row(row: DataRow): void;
  /** The current set's statement finished: its CommandComplete tag (`''` for an empty query). */
  setComplete(tag: string): void;
  /** Every set ran (each set's `setComplete` came first). */
  complete(): void;
  /**
   * postgres_async's pushback, asked after each socket chunk that brought rows: while what it
   * returns is pending the socket is paused, so replies stop and with them the writing of
   * further sets (at most a few rounds are ever ahead of the replies).
   */
  pushback?(): ObservableInput<unknown> | void;
  /**
   * The batch failed: the first error (a PostgresError of a set, a ParameterError of a set that
   * could not be encoded or has the wrong parameter count, a QueryShapeError for COPY), at the
   * end, once the connection is back in sync; or a ConnectionError.
   */
  error(error: Error): void;
}

/** Encoded parameter sets written per round before waiting for the socket to drain. */
const roundBytes = 64 * 1024;
/**
 * Rounds written ahead of the server's replies. More than two lets the server run ahead while
 * the client is still reading the replies of earlier rounds (point queries cost the client
 * about as much as the server), and keeps what still runs after an error or unsubscribe small.
 */
const roundsAhead = 8;

const executeBytes = execute();
const syncBytes = sync();
const flushBytes = flush();
const executeSync = Buffer.concat([executeBytes, syncBytes]);
const describeExecute = Buffer.concat([describe('portal'), executeBytes]);
const describeExecuteSync = Buffer.concat([describeExecute, syncBytes]);
/**
 * Ends a 'once' batch stopped before its end without committing anything: Execute of a portal
 * that cannot exist fails (34000), so the server rolls the implicit transaction back at the Sync.
 */
const abortSync = Buffer.concat([execute('rxpg batch stopped'), syncBytes]);

const noFields: readonly FieldDescription[] = Object.freeze([]);

/**
 * One statement run for many parameter sets, pipelined: Parse and Describe once (or nothing,
 * for a statement the connection has prepared), then Bind/Execute per set from the statement's
 * Bind template, with a Sync after each set or one after the last (see {@link BatchSync}).
 *
 * Exclusive: written once the requests before it have ended, and nothing is written behind it
 * until it ends, because its sets are written in rounds (about 64 KiB of encoded sets), not all
 * at once: a round goes while fewer than eight rounds await the server's replies and the socket
 * has room. The sets are asked from the sink as
 * they are written, so a lazy source is read as the server goes.
 *
 * The first error ends the batch (reported at its end, when every written set has come back):
 * no more sets are written. With `each`, sets already written run on, their results discarded;
 * with `once` the server skips everything up to the Sync and nothing of the batch is committed.
 * A set that cannot be encoded in the first round fails the batch before anything is written.
 * Detaching (unsubscribe) stops the writing the same way; a `once` batch with sets left to
 * write is ended by an Execute that fails, so nothing of it is committed.
 */
export class BatchConversation implements Conversation {
  readonly exclusive = true;
  readonly #sql: string;
  readonly #sink: BatchSink;
  readonly #statements: StatementCache | undefined;
  readonly #syncEach: boolean;
  #channel: ConversationChannel | undefined;
  #entry: CachedStatement | undefined;
  /** Whether this batch prepares the statement (its Parse and Describe come first). */
  #leads = false;
  #template: BindTemplate | undefined;
  /** Describe portal + Execute (+ Sync) after each Bind. */
  #suffix: Buffer = executeSync;
  /** The statement's parameter count once known (cache or ParameterDescription). */
  #parameterCount: number | undefined;
  /** The first set's parameter count: every set must have as many. */
  #firstCount = 0;
  /** Result formats of the sets' Binds; undefined for text. */
  #formats: readonly FormatCode[] | undefined;
  /** The statement's columns from its Describe (or the cache), for every set. */
  #fields: readonly FieldDescription[] | undefined;
  #deliveredFields: readonly FieldDescription[] | undefined;
  #describesPortal = false;
  #columnCount = -1;
  #writing = true;
  #syncsWritten = 0;
  #readyReceived = 0;
  /** Sets written (Bind) and sets whose BindComplete has come. */
  #setsWritten = 0;
  #setsBound = 0;
  #parsed = false;
  #error: Error | undefined;
  #drain: Subscription | undefined;
  /** `#setsWritten` at the end of each written round not yet fully answered, oldest first. */
  readonly #roundEnds: number[] = [];
  #setsAnswered = 0;
  #waitingForReplies = false;
  #detached = false;
  #ended = false;

  /** Throws when the SQL contains a NUL byte; callers turn that into an error notification. */
  constructor(sql: string, sink: BatchSink, options: { readonly sync: BatchSync; readonly statements?: StatementCache }) {
    checkNoNul(sql, 'the query text');
    this.#sql = sql;
    this.#sink = sink;
    this.#syncEach = options.sync === 'each';
    this.#statements = options.statements;
  }

  /**
   * Writes the statement's Parse/Describe (unless prepared) and the first round of sets. What
   * throws here (a set that cannot be encoded, a message over 1 GiB) fails the batch with
   * nothing sent: the protocol's start rule.
   */
  start(channel: ConversationChannel): void {
    this.#channel = channel;
    const sql = this.#sql;
    const statements = this.#statements;
    const entry = statements?.use(sql);
    const header: Uint8Array[] = [];
    if (entry !== undefined && entry.fields !== undefined) {
      // Prepared (the batch is exclusive: any leader before it has ended).
      this.#entry = entry;
      this.#parameterCount = entry.parameterCount;
      this.#describesPortal = entry.describesPortal;
      this.#template = this.#namedTemplate(entry);
      if (!entry.describesPortal) this.#fields = entry.fields;
    } else {
      const leader = statements?.prepare(sql);
      const name = leader?.name ?? '';
      this.#describesPortal = !hasPlannedColumns(sql);
      if (leader !== undefined) {
        leader.describesPortal = this.#describesPortal;
        this.#entry = leader;
      }
      this.#leads = true;
      try {
        header.push(parse(sql, { statement: name }), describe('statement', name));
        this.#template = new BindTemplate({ statement: name });
      } catch (error) {
        if (leader !== undefined) statements!.forget(sql, leader);
        throw error;
      }
    }
    this.#suffix = this.#describesPortal
      ? this.#syncEach
        ? describeExecuteSync
        : describeExecute
      : this.#syncEach
        ? executeSync
        : executeBytes;
    try {
      const first: Uint8Array[] = [];
      this.#encodeRound(first);
      if (statements !== undefined) for (const close of statements.takeCloses()) channel.write(close);
      for (const frame of header) channel.write(frame);
      for (const frame of first) channel.write(frame);
    } catch (error) {
      if (this.#leads && this.#entry !== undefined) statements!.forget(sql, this.#entry);
      throw error;
    }
    // The first round is written when start returns; the next ones as the server answers.
    if (this.#writing) {
      this.#roundEnds.push(this.#setsWritten);
      queueMicrotask(this.#nextLater);
    }
  }

  /** The prepared statement's template: binary results where the sink wants them. */
  #namedTemplate(entry: CachedStatement): BindTemplate {
    const fields = entry.fields;
    const formats = fields !== undefined && !entry.describesPortal ? this.#sink.resultFormats?.(fields) : undefined;
    if (formats !== undefined) {
      if (entry.resultFormats !== formats) setResultFormats(entry, formats);
      this.#formats = formats;
      return bindTemplateOf(entry);
    }
    return entry.resultFormats.length > 0 ? new BindTemplate({ statement: entry.name }) : bindTemplateOf(entry);
  }

  /**
   * Encodes sets into `frames` up to a round's worth of bytes, then (at the end of the sets)
   * the closing Sync. Throws what encoding a set throws; the sets before it stay in `frames`.
   */
  #encodeRound(frames: Uint8Array[]): void {
    let bytes = 0;
    for (;;) {
      if (bytes >= roundBytes) {
        // 'once' has no Sync until the end, and the server sends its replies only at a Sync,
        // a Flush or a full buffer: a Flush per round keeps them coming as the sets run.
        if (!this.#syncEach) frames.push(flushBytes);
        break;
      }
      const set = this.#sink.nextSet();
      if (set === undefined) {
        frames.push(...this.#finish());
        break;
      }
      const needed = this.#parameterCount ?? (this.#setsWritten === 0 ? undefined : this.#firstCount);
      if (needed !== undefined && set.length !== needed) {
        const error = parameterCountError(needed, set.length);
        error.message = `parameter set ${this.#setsWritten}: ${error.message}`;
        throw error;
      }
      if (this.#setsWritten === 0) this.#firstCount = set.length;
      const frame = this.#template!.encode(set, this.#suffix);
      frames.push(frame);
      bytes += frame.length;
      this.#setsWritten += 1;
      if (this.#syncEach) this.#syncsWritten += 1;
    }
  }

  /** The frames that end the writing (none more are written after them). */
  #finish(): Uint8Array[] {
    this.#writing = false;
    this.#drain?.unsubscribe();
    // 'once' always ends with its Sync; 'each' needs one only when no set's Sync is left to
    // answer (no sets, or all answered already), since the batch ends at its last ReadyForQuery.
    if (!this.#syncEach || this.#syncsWritten === this.#readyReceived || this.#setsWritten === 0) {
      this.#syncsWritten += 1;
      return [syncBytes];
    }
    return [];
  }

  /** Stops writing sets; `once` batches are ended so that nothing of them is committed. */
  #stop(): void {
    if (!this.#writing) return;
    this.#writing = false;
    this.#drain?.unsubscribe();
    if (!this.#syncEach) {
      this.#syncsWritten += 1;
      this.#channel?.write(abortSync);
    } else if (this.#syncsWritten === this.#readyReceived) {
      this.#syncsWritten += 1;
      this.#channel?.write(syncBytes);
    }
  }

  /** Writes one round of sets, then decides when the next may go. */
  #pump(): void {
    if (!this.#writing || this.#ended) return;
    const channel = this.#channel!;
    const frames: Uint8Array[] = [];
    try {
      this.#encodeRound(frames);
    } catch (error) {
      // The sets before the bad one go out (they were counted); then the batch stops.
      for (const frame of frames) channel.write(frame);
      this.#error ??= error instanceof Error ? error : new Error(String(error));
      this.#stop();
      return;
    }
    for (const frame of frames) channel.write(frame);
    if (!this.#writing) return;
    this.#roundEnds.push(this.#setsWritten);
    this.#next();
  }

  /**
   * The next round goes while fewer than `roundsAhead` rounds await the server's replies (what
   * still runs after an error or unsubscribe) and the socket has room; after the pending I/O,
   * so replies are read between rounds.
   */
  #next(): void {
    if (!this.#writing || this.#ended) return;
    if (this.#roundEnds.length >= roundsAhead) {
      this.#waitingForReplies = true;
      return;
    }
    let waiting = true;
    let ready = false;
    const subscription = this.#channel!.drained().subscribe(() => {
      ready = true;
      if (!waiting) this.#pump();
    });
    waiting = false;
    if (ready) setImmediate(this.#pumpLater);
    else this.#drain = subscription;
  }

  readonly #pumpLater = (): void => this.#pump();
  readonly #nextLater = (): void => this.#next();

  /** A set's Execute was answered (or failed): the window of rounds moves on. */
  #answered(): void {
    this.#setsAnswered += 1;
    const roundEnds = this.#roundEnds;
    while (roundEnds.length > 0 && roundEnds[0]! <= this.#setsAnswered) roundEnds.shift();
    if (this.#waitingForReplies && roundEnds.length < roundsAhead) {
      this.#waitingForReplies = false;
      setImmediate(this.#nextLater);
    }
  }

  detach(): void {
    this.#detached = true;
    this.#stop();
  }

  pushback(): ObservableInput<unknown> | void {
    return deliveringPushback(this.#sink, this.#delivering() && !this.#ended);
  }

  handle(message: BackendMessage, channel: ConversationChannel): boolean {
    switch (message.name) {
      case 'DataRow':
        if (dataRowLength(message) !== this.#columnCount) {
          channel.failConnection(
            new ProtocolError(`DataRow with ${dataRowLength(message)} values for a RowDescription of ${this.#columnCount} columns`),
          );
          return false;
        }
        if (this.#delivering()) this.#sink.row(message);
        return false;
      case 'CloseComplete':
        // A statement the cache evicted (or forgot) is closed with the batch's first write.
        return false;
      case 'ParseComplete':
        this.#parsed = true;
        return false;
      case 'ParameterDescription':
        this.#parameterCount = message.dataTypeIds.length;
        if (this.#leads && this.#entry !== undefined) this.#entry.parameterCount = this.#parameterCount;
        return false;
      case 'RowDescription':
      case 'NoData': {
        const fields = message.name === 'NoData' ? noFields : message.fields;
        if (this.#leads && this.#setsBound === 0) {
          // The statement's Describe: its columns for every set (and for the cache).
          if (this.#entry !== undefined) this.#entry.fields = fields;
          if (!this.#describesPortal) this.#fields = fields;
          return false;
        }
        this.#described(fields);
        return false;
      }
      case 'BindComplete':
        this.#setsBound += 1;
        if (!this.#describesPortal) this.#described(this.#fields ?? noFields);
        return false;
      case 'CommandComplete':
        if (message.tag === 'DISCARD ALL' || message.tag === 'DEALLOCATE ALL') this.#statements?.clear();
        if (this.#delivering()) this.#sink.setComplete(message.tag);
        this.#answered();
        return false;
      case 'EmptyQueryResponse':
        if (this.#delivering()) this.#sink.setComplete('');
        this.#answered();
        return false;
      case 'ErrorResponse':
        this.#failed(message.fields);
        this.#answered();
        return false;
      case 'CopyInResponse':
        this.#error ??= new QueryShapeError('COPY cannot run through queryBatch(); use copyIn()', this.#sql);
        channel.write(Buffer.concat([copyFail('COPY FROM STDIN is not supported by queryBatch()'), syncBytes]));
        this.#stop();
        return false;
      case 'CopyOutResponse':
        this.#error ??= new QueryShapeError('COPY cannot run through queryBatch(); use copyOut()', this.#sql);
        this.#stop();
        return false;
      case 'CopyData':
      case 'CopyDone':
        return false;
      case 'ReadyForQuery':
        this.#readyReceived += 1;
        if (this.#readyReceived > this.#syncsWritten) {
          channel.failConnection(new ProtocolError('ReadyForQuery for no Sync of a batch'));
          return false;
        }
        if (this.#writing || this.#readyReceived < this.#syncsWritten) return false;
        this.#ended = true;
        if (!this.#detached) {
          if (this.#error === undefined) this.#sink.complete();
          else this.#sink.error(this.#error);
        }
        return true;
      default:
        channel.failConnection(new ProtocolError(`unexpected ${message.name} in reply to a batch`));
        return false;
    }
  }

  #described(fields: readonly FieldDescription[]): void {
    this.#columnCount = fields.length;
    if (fields !== this.#deliveredFields && this.#delivering()) {
      this.#deliveredFields = fields;
      this.#sink.fields(fields, this.#describesPortal ? undefined : this.#formats);
    }
  }

  /** Results are passed on until the first error (later sets' results are discarded). */
  #delivering(): boolean {
    return !this.#detached && this.#error === undefined;
  }

  #failed(fields: ErrorFields): void {
    if (this.#error === undefined) {
      const entry = this.#entry;
      // A cached statement bound without its Parse: its error does not name the internal statement.
      const publicFields = entry !== undefined && !this.#leads ? cachedStatementErrorFields(fields) : fields;
      this.#error =
        bindParameterCountError(fields, this.#firstCount, this.#parameterCount) ??
        new PostgresError(publicFields, { sql: this.#sql, parameterCount: this.#firstCount });
      if (entry !== undefined && this.#statements !== undefined) {
        // A statement that failed to prepare, or that the server no longer has or can no longer
        // use, is forgotten: the next request prepares it afresh.
        if ((this.#leads && !this.#parsed) || isStaleStatementCode(fields.code)) this.#statements.forget(this.#sql, entry);
      }
    }
    this.#stop();
  }

  fail(error: Error): void {
    this.#writing = false;
    this.#drain?.unsubscribe();
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#detached) this.#sink.error(error);
  }
}
