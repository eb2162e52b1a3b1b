/**
 * The bare-socket limit: a measuring tool, not a client. It speaks just enough of the v3
 * protocol over a plain `net` socket to log in with trust, send a simple Query or a pipeline
 * of Bind/Execute/Sync, and count what comes back: DataRow messages (plus the sum of their
 * first column, parsed straight from the bytes, so the answer can be verified) and
 * ReadyForQuery. Nothing is decoded into JavaScript values and nothing is allocated per
 * message, so its throughput is what Node plus the server can do on one connection: streaming
 * (stream-push, stream-raw), one prepared query at a time (point-seq) and pipelined
 * (point-concurrent, and point-batch's limit).
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { countAndSum } from '../checksums';
import { WorkloadUnavailable, type ChildContext } from '../child-protocol';
import type { OpenSession } from '../clients/bench-session';
import { pointSql, streamSql } from '../workloads';

const protocolVersion3 = 196608;
const messageDataRow = 0x44; // 'D'
const messageReadyForQuery = 0x5a; // 'Z'
const messageErrorResponse = 0x45; // 'E'
const messageAuthentication = 0x52; // 'R'
const pointStatement = 'bench_point';

/** Opens a bare socket for the workloads it has a limit row in. */
export const openSession: OpenSession = async (workload, context) => {
  const socket = await BareSocket.open(context);
  switch (workload) {
    case 'stream-push':
    case 'stream-raw':
      return {
        run: async (size) => {
          const { dataRows, firstColumnSum } = await socket.request(simpleQuery(streamSql(size)), 1);
          return { rows: dataRows, sumI: firstColumnSum };
        },
        close: () => socket.close(),
      };
    case 'point-seq':
      await socket.request(Buffer.concat([parse(pointStatement, pointSql), sync()]), 1);
      return {
        run: async (size) => {
          let sum = 0;
          for (let i = 1; i <= size; i++) sum += (await socket.request(pointPipeline(1, i), 1)).firstColumnSum;
          return countAndSum(size, sum);
        },
        close: () => socket.close(),
      };
    case 'point-concurrent':
    case 'point-batch':
      await socket.request(Buffer.concat([parse(pointStatement, pointSql), sync()]), 1);
      return {
        run: async (size) => {
          const { dataRows, firstColumnSum } = await socket.request(pointPipeline(size), size);
          return countAndSum(dataRows, firstColumnSum);
        },
        close: () => socket.close(),
      };
    default:
      await socket.close();
      throw new WorkloadUnavailable(`the bare socket has no ${workload} workload`);
  }
};

/** What one request got back. */
interface Counts {
  readonly dataRows: number;
  readonly firstColumnSum: number;
}

/** One request in flight: counts until `readyLeft` ReadyForQuery messages have arrived. */
interface Pending {
  dataRows: number;
  firstColumnSum: number;
  readyLeft: number;
  error: string | undefined;
  readonly resolve: (counts: Counts) => void;
  readonly reject: (error: Error) => void;
}

/** A logged-in socket that runs one request at a time. */
class BareSocket {
  readonly #socket: Socket;
  #leftover: Buffer | undefined;
  #pending: Pending | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(error.message));
    socket.on('close', () => this.#fail('the server closed the connection'));
  }

  /** Connects over TCP and completes the startup (trust authentication only). */
  static async open(context: ChildContext): Promise<BareSocket> {
    const socket = connectTcp({ host: context.host, port: context.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const bare = new BareSocket(socket);
    await bare.request(startupMessage(context.user, context.database), 1);
    return bare;
  }

  /** Writes `bytes` and resolves once `readyCount` ReadyForQuery messages have come back. */
  request(bytes: Buffer, readyCount: number): Promise<Counts> {
    if (this.#pending !== undefined) return Promise.reject(new Error('bare socket: one request at a time'));
    return new Promise((resolve, reject) => {
      this.#pending = { dataRows: 0, firstColumnSum: 0, readyLeft: readyCount, error: undefined, resolve, reject };
      this.#socket.write(bytes);
    });
  }

  /** Sends Terminate and waits for the socket to close. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.end(terminate());
    await closed;
  }

  #onData(chunk: Buffer): void {
    const buffer = this.#leftover === undefined ? chunk : Buffer.concat([this.#leftover, chunk]);
    const end = buffer.length;
    let offset = 0;
    while (end - offset >= 5) {
      const next = offset + 1 + buffer.readInt32BE(offset + 1);
      if (next > end) break;
      const pending = this.#pending;
      const type = buffer[offset];
      if (pending !== undefined) {
        if (type === messageDataRow) {
          pending.dataRows += 1;
          pending.firstColumnSum += asciiInteger(buffer, offset + 11, buffer.readInt32BE(offset + 7));
        } else if (type === messageReadyForQuery) {
          pending.readyLeft -= 1;
          if (pending.readyLeft === 0) this.#settle(pending);
        } else if (type === messageErrorResponse) {
          pending.error ??= errorMessage(buffer, offset + 5, next);
        } else if (type === messageAuthentication && buffer.readInt32BE(offset + 5) !== 0) {
          pending.error ??= 'the bare socket only supports trust authentication';
          this.#settle(pending);
        }
      }
      offset = next;
    }
    this.#leftover = offset < end ? buffer.subarray(offset) : undefined;
  }

  #settle(pending: Pending): void {
    this.#pending = undefined;
    if (pending.error === undefined) pending.resolve({ dataRows: pending.dataRows, firstColumnSum: pending.firstColumnSum });
    else pending.reject(new Error(`bare socket: ${pending.error}`));
  }

  #fail(reason: string): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(new Error(`bare socket: ${reason}`));
  }
}

/** A non-negative decimal integer from ASCII digits; 0 for NULL (length -1). */
function asciiInteger(buffer: Buffer, start: number, length: number): number {
  let value = 0;
  for (let i = start, end = start + length; i < end; i++) value = value * 10 + (buffer[i]! - 48);
  return value;
}

/** The `M` (message) field of an ErrorResponse body. */
function errorMessage(buffer: Buffer, start: number, end: number): string {
  let offset = start;
  while (offset < end && buffer[offset] !== 0) {
    const field = buffer[offset];
    const stop = buffer.indexOf(0, offset + 1);
    if (field === 0x4d) return buffer.toString('utf8', offset + 1, stop);
    offset = stop + 1;
  }
  return 'the server reported an error';
}

/** A frontend message: type byte, int32 length, body. */
function message(type: string, body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** A NUL-terminated string. */
function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

function startupMessage(user: string, database: string): Buffer {
  const version = Buffer.allocUnsafe(4);
  version.writeInt32BE(protocolVersion3, 0);
  const body = Buffer.concat([version, ...['user', user, 'database', database, 'client_encoding', 'UTF8'].map(cstring), Buffer.from([0])]);
  const length = Buffer.allocUnsafe(4);
  length.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([length, body]);
}

function simpleQuery(sql: string): Buffer {
  return message('Q', cstring(sql));
}

/** Parse of a named statement with no declared parameter types. */
function parse(name: string, sql: string): Buffer {
  return message('P', Buffer.concat([cstring(name), cstring(sql), Buffer.from([0, 0])]));
}

function sync(): Buffer {
  return message('S', Buffer.alloc(0));
}

function terminate(): Buffer {
  return message('X', Buffer.alloc(0));
}

/**
 * `count` × (Bind of the prepared point statement with `$1` = first..first+count-1 in text,
 * Execute, Sync) in one buffer: one Sync each, written at once.
 */
function pointPipeline(count: number, first = 1): Buffer {
  const statement = Buffer.from(`${pointStatement}\0`, 'utf8');
  const maxBytesPerQuery = 1 + 4 + 1 + statement.length + 2 + 2 + 4 + 10 + 2 + 10 + 5;
  const buffer = Buffer.allocUnsafe(count * maxBytesPerQuery);
  let offset = 0;
  for (let i = first; i < first + count; i++) {
    const value = String(i);
    // Bind: portal "", the statement, no parameter formats (text), one parameter, no result formats (text).
    buffer[offset] = 0x42;
    buffer.writeInt32BE(4 + 1 + statement.length + 2 + 2 + 4 + value.length + 2, offset + 1);
    offset += 5;
    buffer[offset++] = 0;
    offset += statement.copy(buffer, offset);
    offset = buffer.writeInt16BE(0, offset);
    offset = buffer.writeInt16BE(1, offset);
    offset = buffer.writeInt32BE(value.length, offset);
    offset += buffer.write(value, offset, 'latin1');
    offset = buffer.writeInt16BE(0, offset);
    // Execute: portal "", no row limit.
    buffer[offset] = 0x45;
    offset = buffer.writeInt32BE(9, offset + 1);
    buffer[offset++] = 0;
    offset = buffer.writeInt32BE(0, offset);
    // Sync.
    buffer[offset] = 0x53;
    offset = buffer.writeInt32BE(4, offset + 1);
  }
  return buffer.subarray(0, offset);
}
