import { copyDataHeader } from '../wire';

/** Largest CopyData message rxpg writes; bigger chunks are split. */
export const maxCopyDataBytes = 256 * 1024;

/** Type byte and length: the CopyData header. */
const headerSize = 5;
/** Payload bytes of one staging buffer: many small text chunks become one CopyData message. */
const stagingBytes = 64 * 1024;
/** Staging buffers kept for reuse; the socket's high-water mark keeps fewer than this in flight. */
const maxSpareBuffers = 4;
const copyDataType = 0x64; // 'd'

/** What the framer writes with: the conversation channel's write (see ConversationChannel). */
export type FramedWrite = (bytes: Uint8Array, released?: () => void) => void;

/**
 * Frames a COPY source's chunks as CopyData messages for one COPY FROM STDIN.
 *
 * Text of any size is encoded straight into 64 KiB staging buffers, each of which becomes one
 * CopyData message when it is full, when bytes or the end of the COPY must follow it, or at
 * the end of the tick. A staging buffer is reused once the socket has sent it, so a COPY of any
 * size from text allocates a few buffers in all: memory stays flat instead of waiting for the
 * garbage collector to free a Buffer per chunk. Byte chunks go out as they are (no copy),
 * split at {@link maxCopyDataBytes}.
 *
 * Order is kept: everything staged is written before any later bytes, and `flush` must be
 * called before the conversation writes CopyDone; `discard` drops what is staged (CopyFail or
 * the server's error end the COPY anyway).
 */
export class CopyDataFramer {
  readonly #write: FramedWrite;
  readonly #encoder = new TextEncoder();
  readonly #spare: Buffer[] = [];
  #staging: Buffer | undefined;
  #used = 0;
  #flushScheduled = false;
  readonly #flushAtEndOfTick = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  constructor(write: FramedWrite) {
    this.#write = write;
  }

  /** Frames a string, encoded as UTF-8 (a lone surrogate becomes U+FFFD, as Buffer.from does). */
  text(chunk: string): void {
    let rest = chunk;
    while (rest.length > 0) {
      const staging = this.#stagingWithRoom();
      // A UTF-16 code unit never takes more than three bytes of UTF-8.
      if (rest.length * 3 <= staging.length - this.#used) {
        this.#used += staging.write(rest, this.#used);
        return;
      }
      const { read, written } = this.#encoder.encodeInto(rest, staging.subarray(this.#used));
      this.#used += written;
      rest = rest.slice(read);
      // Full, or too full for the next character: send it and go on in a fresh buffer.
      if (rest.length > 0) this.flush();
    }
  }

  /** Frames bytes as they are, after anything staged. */
  bytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.flush();
    for (let offset = 0; offset < bytes.length; offset += maxCopyDataBytes) {
      const end = Math.min(bytes.length, offset + maxCopyDataBytes);
      const piece = offset === 0 && end === bytes.length ? bytes : bytes.subarray(offset, end);
      this.#write(copyDataHeader(piece.length));
      this.#write(piece);
    }
  }

  /** Writes what is staged as one CopyData message. */
  flush(): void {
    const staging = this.#staging;
    if (staging === undefined) return;
    this.#staging = undefined;
    if (this.#used === headerSize) {
      this.#recycle(staging);
      return;
    }
    staging[0] = copyDataType;
    staging.writeUInt32BE(this.#used - 1, 1);
    this.#write(staging.subarray(0, this.#used), () => this.#recycle(staging));
  }

  /** Drops what is staged. */
  discard(): void {
    this.#staging = undefined;
  }

  #stagingWithRoom(): Buffer {
    if (this.#staging !== undefined) return this.#staging;
    const staging = this.#spare.pop() ?? Buffer.allocUnsafe(headerSize + stagingBytes);
    this.#staging = staging;
    this.#used = headerSize;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flushAtEndOfTick);
    }
    return staging;
  }

  #recycle(buffer: Buffer): void {
    if (this.#spare.length < maxSpareBuffers) this.#spare.push(buffer);
  }
}
