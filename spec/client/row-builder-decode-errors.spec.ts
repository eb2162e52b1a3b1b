// A value that a built-in decoder refuses (a binary int4 of 3 bytes, text that is not JSON: a
// real server never sends one, a hostile server or a broken proxy can) fails its query with a
// ValueDecodeError naming the column, the type and the format, never the value; a user's
// decoder keeps its own error. The query fails alone: the connection stays usable.
import { inspect } from 'node:util';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { TypeOid, TypeRegistry, ValueDecodeError, type Connection } from '../../lib';
import { rowBuilder, type RawRow } from '../../lib/client/row-builder';
import { BackendMessageDecoder, type DataRow, type FieldDescription } from '../../lib/wire';
import * as b from '../helpers/backend-messages';
import { errorOf } from '../helpers/connections';
import { closeScriptedSession, startScriptedSession, type ScriptedSession } from '../helpers/scripted-session';

function field(name: string, dataTypeId: number, format: 0 | 1 = 0): FieldDescription {
  return { name, tableId: 0, columnId: 0, dataTypeId, dataTypeSize: -1, dataTypeModifier: -1, format };
}

/** The DataRow message the decoder makes of these values (strings as UTF-8, Buffers as they are). */
function dataRow(values: readonly (string | Buffer | null)[]): DataRow {
  let row: DataRow | undefined;
  new BackendMessageDecoder().decode(Buffer.concat([b.dataRow(values), b.noData()]), (message) => {
    if (message.name === 'DataRow') row = message;
  });
  return row!;
}

/** What building the row throws (fails the spec when it does not throw). */
function thrownBy(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  throw new Error('the row was built');
}

/** Fails when the value's bytes or text show anywhere a log could take them from. */
function expectValueHidden(error: unknown, secret: string): void {
  expect(JSON.stringify(error)).not.toContain(secret);
  expect(inspect(error, { depth: 5 })).not.toContain(secret);
  expect(inspect(error, { depth: 5 })).not.toContain(Buffer.from(secret).toString('hex'));
}

/** Three bytes where an int4's four belong: 'Zq9' (a value that must not show). */
const shortInt4 = Buffer.from('Zq9');

describe('rowBuilder: a value its built-in decoder refuses', () => {
  const types = new TypeRegistry();
  const fields = [field('id', TypeOid.int4), field('amount', TypeOid.int4), field('note', TypeOid.text)];

  it.each(['object', 'array'] as const)('is a ValueDecodeError naming the column, type and format (%s rows)', (mode) => {
    const build = rowBuilder(fields, types, mode, [1, 1, 0]);
    const error = thrownBy(() => build(dataRow([b.int32(7), shortInt4, 'a note'])));
    expect(error).toBeInstanceOf(ValueDecodeError);
    expect(error).toMatchObject({
      code: '22P03',
      columnName: 'amount',
      columnIndex: 1,
      typeOid: 23,
      typeName: 'int4',
      format: 'binary',
      message: 'column "amount" (index 1) of type int4 (OID 23), binary format: int4 binary value of 3 bytes, expected 4',
    });
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expectValueHidden(error, 'Zq9');
    // The same builder still builds good rows.
    expect(build(dataRow([b.int32(7), b.int32(8), 'x']))).toEqual(mode === 'object' ? { id: 7, amount: 8, note: 'x' } : [7, 8, 'x']);
  });

  it('is the same for a column named __proto__, and for arrays and their elements', () => {
    const error = thrownBy(() => rowBuilder([field('__proto__', TypeOid.float8)], types, 'object', [1])(dataRow([Buffer.alloc(7)])));
    expect(error).toMatchObject({ columnName: '__proto__', columnIndex: 0, typeName: 'float8', format: 'binary' });
    expect((error as Error).message).toContain('float8 binary value of 7 bytes, expected 8');

    const element = Buffer.concat([b.int32(1), b.int32(0), b.int32(20), b.int32(1), b.int32(1), b.int32(4), Buffer.from('Zq9!')]);
    const inArray = thrownBy(() => rowBuilder([field('ids', TypeOid.int8Array)], types, 'array', [1])(dataRow([element])));
    expect(inArray).toMatchObject({ columnName: 'ids', typeOid: 1016, typeName: 'int8[]', format: 'binary' });
    expect((inArray as Error).message).toMatch(/binary format: int8 binary value of 4 bytes, expected 8$/);
    expectValueHidden(inArray, 'Zq9!');
  });

  it('names a type rxpg does not know by its OID only', () => {
    const error = new ValueDecodeError({ columnName: 'mood', columnIndex: 2, typeOid: 16384, format: 'text' }, 'refused');
    expect(error.message).toBe('column "mood" (index 2) of type OID 16384, text format: refused');
    expect(error.typeName).toBeUndefined();
    expect(error.name).toBe('ValueDecodeError');
  });

  it('is a ValueDecodeError for a text value, without the decoder message that could quote it', () => {
    const build = rowBuilder([field('id', TypeOid.int4), field('doc', TypeOid.jsonb)], types, 'array');
    const error = thrownBy(() => build(dataRow(['1', '{"password": hunter2'])));
    expect(error).toMatchObject({ code: '22P02', columnName: 'doc', columnIndex: 1, typeOid: 3802, typeName: 'jsonb', format: 'text' });
    expect((error as Error).message).toContain('SyntaxError');
    expect((error as Error).cause).toBeUndefined();
    expectValueHidden(error, 'hunter2');
  });

  it('keeps the error a user decoder throws, as it is', () => {
    const thrown = new TypeError('not a mood');
    const own = new TypeRegistry();
    own.setDecoder(TypeOid.text, () => {
      throw thrown;
    });
    expect(thrownBy(() => rowBuilder([field('m', TypeOid.text)], own, 'object')(dataRow(['sad'])))).toBe(thrown);
    // A built-in decoder of the same registry is still wrapped.
    expect(thrownBy(() => rowBuilder([field('n', TypeOid.int4)], own, 'array', [1])(dataRow([shortInt4])))).toBeInstanceOf(
      ValueDecodeError,
    );
  });

  it('leaves raw rows alone: their values are the text as sent', () => {
    const row = rowBuilder(fields, types, 'raw', [1, 1, 0])(dataRow(['7', 'Zq9', null])) as RawRow;
    expect(row.values).toEqual(['7', 'Zq9', null]);
  });
});

describe('a server that sends a binary value of the wrong length (a fake server)', () => {
  let session: ScriptedSession | undefined;
  afterEach(async () => {
    await closeScriptedSession(session);
    session = undefined;
  });

  const ready = b.readyForQuery('I');
  const columns = [
    { name: 'id', dataTypeId: TypeOid.int4 },
    { name: 'note', dataTypeId: TypeOid.text },
  ];
  /** The statement's first run: described, its rows in text. */
  const firstRun = Buffer.concat([
    b.parseComplete(),
    b.parameterDescription([]),
    b.rowDescription(columns),
    b.bindComplete(),
    b.dataRow(['1', 'a']),
    b.commandComplete('SELECT 1'),
    ready,
  ]);
  /** A cached run (rxpg asks for int4 in binary): a good row, a bad one, a good one. */
  const badRun = Buffer.concat([
    b.bindComplete(),
    b.dataRow([b.int32(2), 'b']),
    b.dataRow([shortInt4, 'c']),
    b.dataRow([b.int32(4), 'd']),
    b.commandComplete('SELECT 3'),
    ready,
  ]);
  const goodRun = Buffer.concat([b.bindComplete(), b.dataRow([b.int32(5), 'e']), b.commandComplete('SELECT 1'), ready]);
  const sql = 'SELECT id, note FROM t';

  async function expectOnlyTheQueryFails(connection: Connection, run: () => Promise<unknown>): Promise<void> {
    const error = await errorOf(run());
    expect(error).toBeInstanceOf(ValueDecodeError);
    expect(error).toMatchObject({ columnName: 'id', columnIndex: 0, typeOid: 23, typeName: 'int4', format: 'binary' });
    expect(error.message).toContain('int4 binary value of 3 bytes, expected 4');
    expectValueHidden(error, 'Zq9');
    expect(connection.state).toBe('open');
  }

  it('fails only that query, in object and array rows and through all(); later queries get their rows', async () => {
    session = await startScriptedSession([firstRun, badRun, goodRun, badRun, goodRun, badRun, goodRun]);
    const connection = session.connection;
    expect(await lastValueFrom(connection.query(sql).pipe(toArray()))).toEqual([{ id: 1, note: 'a' }]);

    // The good row before the bad one is delivered, the rest of the query's rows are discarded.
    const delivered: unknown[] = [];
    await expectOnlyTheQueryFails(connection, () => lastValueFrom(connection.query(sql).pipe(tap((row) => delivered.push(row)))));
    expect(delivered).toEqual([{ id: 2, note: 'b' }]);
    expect(await lastValueFrom(connection.query(sql).pipe(toArray()))).toEqual([{ id: 5, note: 'e' }]);

    await expectOnlyTheQueryFails(connection, () => lastValueFrom(connection.query(sql, [], { rowMode: 'array' }).pipe(toArray())));
    expect(await lastValueFrom(connection.query(sql, [], { rowMode: 'array' }))).toEqual([5, 'e']);

    await expectOnlyTheQueryFails(connection, () => connection.all(sql));
    expect(await connection.all(sql)).toEqual([{ id: 5, note: 'e' }]);
  });
});
