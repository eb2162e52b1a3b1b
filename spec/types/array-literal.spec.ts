import fc from 'fast-check';
import { decodeBytea, decodeInteger, decodeJson, encodeParameter, parseArrayLiteral, quoteArrayElement } from '../../lib/types';

describe('parseArrayLiteral', () => {
  it.each<[string, unknown[]]>([
    ['{}', []],
    ['{1}', ['1']],
    ['{1,2,3}', ['1', '2', '3']],
    [
      '{{1,2},{3,4}}',
      [
        ['1', '2'],
        ['3', '4'],
      ],
    ],
    [
      '{{{1},{2}},{{3},{4}}}',
      [
        [['1'], ['2']],
        [['3'], ['4']],
      ],
    ],
    ['{NULL,null,Null,"NULL","null"}', [null, null, null, 'NULL', 'null']],
    ['{"",""}', ['', '']],
    ['{"a\\"b","c\\\\d"}', ['a"b', 'c\\d']],
    ['{"\\"","\\\\","\\\\\\""}', ['"', '\\', '\\"']],
    ['{"a,b","{}"," x ","a}b"}', ['a,b', '{}', ' x ', 'a}b']],
    ['{"\\a\\b"}', ['ab']], // a backslash makes any next character literal
    ['{a\\,b,c\\"d}', ['a,b', 'c"d']], // escapes in unquoted elements (accepted on input)
    ['{NU\\LL}', ['NULL']], // an escaped NULL is a string, as on the server
    ['{ 1 , 2 }', ['1', '2']],
    ['  { {1} , {2} }  ', [['1'], ['2']]],
    ['{a b}', ['a b']], // inner whitespace of an unquoted element stays
    ['[0:1]={1,2}', ['1', '2']],
    ['[1:1][3:4]={{1,2}}', [['1', '2']]],
    ['{😀,"é"}', ['😀', 'é']],
  ])('%s', (text, expected) => {
    expect(parseArrayLiteral(text, null)).toEqual(expected);
  });

  it('decodes each non-null element with the element decoder', () => {
    expect(parseArrayLiteral('{{1,NULL},{3,4}}', decodeInteger)).toEqual([
      [1, null],
      [3, 4],
    ]);
    expect(parseArrayLiteral('{"\\\\x00ff",NULL}', decodeBytea)).toEqual([Buffer.from([0, 255]), null]);
    expect(parseArrayLiteral('{"{\\"a\\": 1}","[1, 2]",NULL}', decodeJson)).toEqual([{ a: 1 }, [1, 2], null]);
  });

  it('splits on another delimiter (box uses ;)', () => {
    expect(parseArrayLiteral('{(1,1),(0,0);(2,2),(1,1)}', null, ';')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)']);
  });

  it.each(['', '1', '{', '{1', '{1,2', '{"a}', '{"a"', '{a"b}', '{{1}', '{1}}', '{1} x', '[0:1]', '[0:1]=1', 'x{1}', '{"a\\'])(
    'throws a SyntaxError for %p',
    (text) => {
      expect(() => parseArrayLiteral(text, null)).toThrow(SyntaxError);
    },
  );

  it('propagates what the element decoder throws', () => {
    expect(() => parseArrayLiteral('{"{"}', decodeJson)).toThrow(SyntaxError);
  });
});

describe('quoteArrayElement', () => {
  it.each([
    ['', '""'],
    ['abc', '"abc"'],
    ['a"b', '"a\\"b"'],
    ['c\\d', '"c\\\\d"'],
    ['"', '"\\""'],
    ['\\"\\', '"\\\\\\"\\\\"'],
    ['NULL', '"NULL"'],
  ])('%p → %p', (text, quoted) => {
    expect(quoteArrayElement(text)).toBe(quoted);
  });
});

/** Strings rich in what array literals must escape or quote. */
const nastyString = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', ',', '{', '}', ' ', '\t', '\n', ';', 'NULL', 'null', '[', ']', '=', ':', 'é', '😀', '\u00a0'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 12,
});

type Nested = string | null | Nested[];
const nestedArray: fc.Arbitrary<Nested[]> = fc.letrec<{ array: Nested[]; element: Nested }>((tie) => ({
  array: fc.array(tie('element'), { maxLength: 5 }),
  element: fc.oneof({ depthSize: 'small', withCrossShrink: true }, nastyString, fc.constant(null), tie('array')),
})).array;

describe('array literal round trip (encodeParameter → parseArrayLiteral)', () => {
  it('keeps any nested array of strings and nulls', () => {
    fc.assert(
      fc.property(nestedArray, (array) => {
        fc.pre(depthOf(array) <= 6);
        const encoded = encodeParameter(array, 0);
        expect(typeof encoded).toBe('string');
        expect(parseArrayLiteral(encoded as string, null)).toEqual(array);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps numbers, including NaN, infinities and -0', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.constant(null))), (array) => {
        const decoded = parseArrayLiteral(encodeParameter(array, 0) as string, Number);
        expect(decoded).toHaveLength(array.length);
        decoded.forEach((value, i) => expect(Object.is(value, array[i])).toBe(true));
      }),
    );
  });
});

function depthOf(value: Nested): number {
  return Array.isArray(value) ? 1 + Math.max(0, ...value.map(depthOf)) : 0;
}
