export type { Pushback, PushbackSource } from './pushback';
export { toAsyncIterable } from './to-async-iterable';
export type { ToAsyncIterableOptions } from './to-async-iterable';
export { toReadable } from './to-readable';
export type { ToReadableOptions } from './to-readable';
export type { ObjectReadable } from './object-readable';
