// The seed's protocol round trips (postgres_async test_protocol_round_trip.ml, cases T-PR1 to
// T-PR13): each message is encoded, its total length (the length field, which counts itself
// but not the type byte) is checked against the seed's, and it is decoded back. Frontend
// messages are encoded by lib/wire and read back here; backend messages are built by the spec
// helpers and decoded by lib/wire.
import {
  BackendMessageDecoder,
  dataRowTexts,
  encodeStartupOptions,
  gssResponse,
  passwordMessage,
  query,
  startupMessage,
  type BackendMessage,
} from '../../lib/wire';
import * as b from '../helpers/backend-messages';

function decodeOne(bytes: Buffer): BackendMessage {
  const messages: BackendMessage[] = [];
  new BackendMessageDecoder().decode(bytes, (message) => messages.push(message));
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

/** The length field of a message with a type byte. */
const lengthOf = (bytes: Buffer): number => bytes.readInt32BE(1);

/** Reads a StartupMessage back: its length field and its parameters. */
function readStartupMessage(bytes: Buffer): { length: number; version: number; parameters: Record<string, string> } {
  const length = bytes.readInt32BE(0);
  expect(length).toBe(bytes.length);
  const strings = bytes.toString('utf8', 8, bytes.length - 1).split('\0');
  strings.pop(); // after the last value's NUL
  const parameters: Record<string, string> = {};
  for (let i = 0; i < strings.length; i += 2) parameters[strings[i]!] = strings[i + 1]!;
  expect(bytes[bytes.length - 1]).toBe(0);
  return { length, version: bytes.readInt32BE(4), parameters };
}

/** Splits an `options` value as the server does: unescaped whitespace separates, `\` escapes. */
function splitStartupOptions(value: string): string[] {
  const args: string[] = [];
  let at = 0;
  while (at < value.length) {
    while (at < value.length && /\s/.test(value[at]!)) at++;
    if (at === value.length) break;
    let arg = '';
    while (at < value.length && !/\s/.test(value[at]!)) {
      if (value[at] === '\\' && at + 1 < value.length) at++;
      arg += value[at++];
    }
    args.push(arg);
  }
  return args;
}

describe('protocol round trips (seed T-PR1 to T-PR13)', () => {
  describe('T-PR1: StartupMessage', () => {
    const base = { user: 'test-user', database: 'testdb' };

    it('user and database: 40 bytes', () => {
      const message = readStartupMessage(startupMessage(base));
      expect(message.length).toBe(40);
      expect(message.version).toBe(196608);
      expect(message.parameters).toEqual({ database: 'testdb', user: 'test-user' });
    });

    it('with replication=database: 61 bytes', () => {
      const message = readStartupMessage(startupMessage({ ...base, replication: 'database' }));
      expect(message.length).toBe(61);
      expect(message.parameters).toEqual({ ...base, replication: 'database' });
    });

    it('with client_encoding and DateStyle: 79 bytes', () => {
      const parameters = { ...base, client_encoding: 'UTF8', DateStyle: 'ISO,MDY' };
      const message = readStartupMessage(startupMessage(parameters));
      expect(message.length).toBe(79);
      expect(message.parameters).toEqual(parameters);
    });

    it.each([
      [['client_encoding=UTF8', 'statement_timeout=3000'], 92, 'client_encoding=UTF8 statement_timeout=3000'],
      [
        ["application_name='More Spaces Please'", 'statement_timeout=3000'],
        111,
        "application_name='More\\ Spaces\\ Please' statement_timeout=3000",
      ],
      [
        ["--application_name='My \\very complicated   a\\p\\p name'", '--statement_timeout=3000'],
        137,
        "--application_name='My\\ \\\\very\\ complicated\\ \\ \\ a\\\\p\\\\p\\ name' --statement_timeout=3000",
      ],
    ])('with options %j: %d bytes', (args, length, value) => {
      const options = encodeStartupOptions(args);
      expect(options).toBe(value);
      const message = readStartupMessage(startupMessage({ ...base, options }));
      expect(message.length).toBe(length);
      expect(message.parameters.options).toBe(value);
      expect(splitStartupOptions(message.parameters.options!)).toEqual(args);
    });
  });

  it('T-PR2: PasswordMessage as a GSS blob (no NUL) and as a password (NUL-terminated), 8 bytes each', () => {
    const blob = gssResponse(Buffer.from('blob'));
    expect(String.fromCharCode(blob[0]!)).toBe('p');
    expect(lengthOf(blob)).toBe(8);
    expect(blob.subarray(5).toString()).toBe('blob');
    const password = passwordMessage('hex');
    expect(String.fromCharCode(password[0]!)).toBe('p');
    expect(lengthOf(password)).toBe(8);
    expect(password.subarray(5)).toEqual(Buffer.from('hex\0'));
  });

  describe('T-PR3: AuthenticationRequest', () => {
    it.each([
      [0, 'AuthenticationOk'],
      [2, 'AuthenticationKerberosV5'],
      [3, 'AuthenticationCleartextPassword'],
      [6, 'AuthenticationSCMCredential'],
      [7, 'AuthenticationGSS'],
      [9, 'AuthenticationSSPI'],
    ])('code %d: 8 bytes, decodes to %s', (code, name) => {
      const bytes = b.authenticationCode(code);
      expect(lengthOf(bytes)).toBe(8);
      expect(decodeOne(bytes)).toEqual({ name });
    });

    it('MD5Password with salt "salt": 12 bytes', () => {
      const bytes = b.authenticationMD5Password(Buffer.from('salt'));
      expect(lengthOf(bytes)).toBe(12);
      expect(decodeOne(bytes)).toEqual({ name: 'AuthenticationMD5Password', salt: Buffer.from('salt') });
    });

    it('GSSContinue with "gsscont": 15 bytes', () => {
      const bytes = b.authenticationCode(8, Buffer.from('gsscont'));
      expect(lengthOf(bytes)).toBe(15);
      expect(decodeOne(bytes)).toEqual({ name: 'AuthenticationGSSContinue', data: Buffer.from('gsscont') });
    });
  });

  it.each(['I', 'T', 'E'] as const)('T-PR4: ReadyForQuery %s: 5 bytes', (status) => {
    const bytes = b.readyForQuery(status);
    expect(lengthOf(bytes)).toBe(5);
    expect(decodeOne(bytes)).toEqual({ name: 'ReadyForQuery', transactionStatus: status });
  });

  it('T-PR5 (and T-CAN1): BackendKeyData, 12 bytes, the full int32 range', () => {
    const bytes = b.backendKeyData(1234, 4444);
    expect(String.fromCharCode(bytes[0]!)).toBe('K');
    expect(lengthOf(bytes)).toBe(12);
    expect(decodeOne(bytes)).toEqual({ name: 'BackendKeyData', processId: 1234, secretKey: 4444 });
    expect(decodeOne(b.backendKeyData(9999, 2147483647))).toEqual({ name: 'BackendKeyData', processId: 9999, secretKey: 2147483647 });
  });

  it.each([
    ['server_version', '13.6', 24],
    ['user', 'root', 14],
  ])('T-PR6: ParameterStatus %s=%s: %d bytes', (parameterName, parameterValue, length) => {
    const bytes = b.parameterStatus(parameterName, parameterValue);
    expect(String.fromCharCode(bytes[0]!)).toBe('S');
    expect(lengthOf(bytes)).toBe(length);
    expect(decodeOne(bytes)).toEqual({ name: 'ParameterStatus', parameterName, parameterValue });
  });

  it('T-PR7: ErrorResponse with Code, Severity, Message: 31 bytes', () => {
    const bytes = b.errorResponse({ C: '28000', S: 'FATAL', M: 'auth-error' });
    expect(String.fromCharCode(bytes[0]!)).toBe('E');
    expect(lengthOf(bytes)).toBe(31);
    expect(decodeOne(bytes)).toEqual({ name: 'ErrorResponse', fields: { code: '28000', severity: 'FATAL', message: 'auth-error' } });
  });

  it('T-PR8: DataRow ["Col 1","Col 2",NULL,"Col 4"]: 37 bytes', () => {
    const bytes = b.dataRow(['Col 1', 'Col 2', null, 'Col 4']);
    expect(String.fromCharCode(bytes[0]!)).toBe('D');
    expect(lengthOf(bytes)).toBe(37);
    const row = decodeOne(bytes);
    expect(row.name === 'DataRow' && dataRowTexts(row)).toEqual(['Col 1', 'Col 2', null, 'Col 4']);
  });

  it('T-PR9: CommandComplete "DELETE 10": 14 bytes', () => {
    const bytes = b.commandComplete('DELETE 10');
    expect(String.fromCharCode(bytes[0]!)).toBe('C');
    expect(lengthOf(bytes)).toBe(14);
    expect(decodeOne(bytes)).toEqual({ name: 'CommandComplete', tag: 'DELETE 10' });
  });

  it('T-PR10: NoticeResponse with Code 00000 and Severity LOG: 17 bytes', () => {
    const bytes = b.noticeResponse({ C: '00000', S: 'LOG' });
    expect(String.fromCharCode(bytes[0]!)).toBe('N');
    expect(lengthOf(bytes)).toBe(17);
    expect(decodeOne(bytes)).toEqual({ name: 'NoticeResponse', fields: { code: '00000', severity: 'LOG' } });
  });

  it('T-PR11: NotificationResponse pid 10, "Test Channel", "Test Payload": 34 bytes', () => {
    const bytes = b.notificationResponse(10, 'Test Channel', 'Test Payload');
    expect(String.fromCharCode(bytes[0]!)).toBe('A');
    expect(lengthOf(bytes)).toBe(34);
    expect(decodeOne(bytes)).toEqual({ name: 'NotificationResponse', processId: 10, channel: 'Test Channel', payload: 'Test Payload' });
  });

  it('T-PR12: ParameterDescription [12,23,1,5]: 22 bytes', () => {
    const bytes = b.parameterDescription([12, 23, 1, 5]);
    expect(String.fromCharCode(bytes[0]!)).toBe('t');
    expect(lengthOf(bytes)).toBe(22);
    expect(decodeOne(bytes)).toEqual({ name: 'ParameterDescription', dataTypeIds: [12, 23, 1, 5] });
  });

  it('T-PR13: Query "SELECT * FROM a; SELECT * FROM a;": 38 bytes', () => {
    const sql = 'SELECT * FROM a; SELECT * FROM a;';
    const bytes = query(sql);
    expect(String.fromCharCode(bytes[0]!)).toBe('Q');
    expect(lengthOf(bytes)).toBe(38);
    expect(bytes.toString('utf8', 5, bytes.length - 1)).toBe(sql);
    expect(bytes[bytes.length - 1]).toBe(0);
  });
});
