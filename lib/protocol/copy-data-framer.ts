import { copyDataHeader } from '../wire';

/** Largest CopyData message rxpg writes; bigger chunks are split. */
export const maxCopyDataBytes = 256 * 1024;

/** Type byte and length: the CopyData header. */
const headerSize = 5;
/** Payload bytes of one staging buffer: many small text chunks become one CopyData message. */
const stagingBytes = 64 * 1024;
const copyDataType = 0x64; // 'd'

/**
 * Frames a COPY source's chunks as CopyData messages for one COPY FROM STDIN.
 *
 * Text is encoded straight into a 64 KiB staging buffer that becomes one CopyData message when
 * it is full, when bytes or the end of the COPY must follow it, or at the end of the tick: a
 * source yielding thousands of small strings costs one allocation and one socket write per
 * 64 KiB rather than a Buffer, a header and a write per chunk. Byte chunks go out as they are
 * (no copy), split at {@link maxCopyDataBytes}.
 *
 * Order is kept: everything staged is written before any later bytes, and `flush` must be
 * called before the conversation writes CopyDone; `discard` drops what is staged (CopyFail
 * aborts the COPY anyway).
 */
export class CopyDataFramer {
  readonly #write: (bytes: Uint8Array) => void;
  #staging: Buffer | undefined;
  #used = 0;
  #flushScheduled = false;
  readonly #flushAtEndOfTick = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  /** @param write queues bytes for the socket (the conversation channel's write). */
  constructor(write: (bytes: Uint8Array) => void) {
    this.#write = write;
  }

  /** Frames a string, encoded as UTF-8. */
  text(chunk: string): void {
    if (chunk.length === 0) return;
    // A UTF-16 code unit never takes more than three bytes of UTF-8.
    const mostBytes = chunk.length * 3;
    if (mostBytes > stagingBytes) {
      this.bytes(Buffer.from(chunk, 'utf8'));
      return;
    }
    let staging = this.#staging;
    if (staging !== undefined && this.#used + mostBytes > staging.length) {
      this.flush();
      staging = undefined;
    }
    if (staging === undefined) {
      staging = Buffer.allocUnsafe(headerSize + stagingBytes);
      this.#staging = staging;
      this.#used = headerSize;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(this.#flushAtEndOfTick);
      }
    }
    this.#used += staging.write(chunk, this.#used);
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
    staging[0] = copyDataType;
    staging.writeUInt32BE(this.#used - 1, 1);
    this.#write(staging.subarray(0, this.#used));
  }

  /** Drops what is staged. */
  discard(): void {
    this.#staging = undefined;
  }
}
