export { TypeOid, arrayElementOids } from './oids';
export type { TypeName } from './oids';
export { TypeRegistry } from './type-registry';
export type { TextDecoder, TypeRegistryOptions, ArrayDecoderOptions } from './type-registry';
export type { ByteRangeDecoder } from './text-range-decoders';
export { decodeText, decodeInteger, decodeFloat, decodeBigInt, decodeBool, decodeJson } from './text-decoders';
export { decodeBytea } from './bytea';
export { decodeTimestamptz, decodeTimestamp, formatTimestamptz, infinityTime, minusInfinityTime } from './timestamp';
export { decodeInterval, formatInterval } from './interval';
export type { Interval } from './interval';
export { parseArrayLiteral, quoteArrayElement } from './array-literal';
export { encodeParameter } from './encode-parameter';
export { ParameterError } from './parameter-error';
export { quoteIdentifier, quoteChannelName, validateChannelName, maxChannelNameBytes } from './quote-identifier';
export {
  encodeCopyTextRow,
  encodeCopyTextRows,
  encodeCopyTextRowsAsync,
  CopyTextEncoder,
  CopyTextParser,
  defaultCopyChunkLength,
} from './copy-text';
export type { CopyTextRow } from './copy-text';
export { CopyValueError } from './copy-value-error';
