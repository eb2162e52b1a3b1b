// CopyData framing of a COPY source's chunks: staging of small strings, bytes as they are,
// order, and the end-of-tick flush. Pure framing: the COPY round trips are in spec/client.
import { CopyDataFramer, maxCopyDataBytes } from '../../lib/protocol';

/** The CopyData messages in `bytes`, as their payloads; throws on anything else. */
function copyDataPayloads(bytes: Buffer): Buffer[] {
  const payloads: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes[at]).toBe(0x64);
    const length = bytes.readUInt32BE(at + 1);
    payloads.push(bytes.subarray(at + 5, at + 1 + length));
    at += 1 + length;
  }
  expect(at).toBe(bytes.length);
  return payloads;
}

function recordingFramer() {
  const writes: Uint8Array[] = [];
  const framer = new CopyDataFramer((bytes) => writes.push(bytes));
  return { framer, writes, written: () => Buffer.concat(writes) };
}

const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CopyDataFramer', () => {
  it('joins small strings into CopyData messages of at most 64 KiB, encoded as UTF-8, in order', () => {
    const { framer, writes, written } = recordingFramer();
    const lines = Array.from({ length: 10_000 }, (_, i) => `${i}\tzoë ✓ 𝄞 row ${i}\n`);
    for (const line of lines) framer.text(line);
    framer.flush();
    const payloads = copyDataPayloads(written());
    expect(Buffer.concat(payloads).toString('utf8')).toBe(lines.join(''));
    expect(writes.length).toBe(payloads.length);
    expect(payloads.length).toBeLessThan(10);
    for (const payload of payloads) expect(payload.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('writes what is staged at the end of the tick without being asked', async () => {
    const { framer, written } = recordingFramer();
    framer.text('1\tone\n');
    framer.text('2\ttwo\n');
    expect(written()).toHaveLength(0);
    await endOfTick();
    expect(copyDataPayloads(written()).map(String)).toEqual(['1\tone\n2\ttwo\n']);
  });

  it('sends bytes as they are, after what was staged, split at the largest message size', () => {
    const { framer, writes, written } = recordingFramer();
    const large = Buffer.alloc(maxCopyDataBytes + 10, 0x61);
    framer.text('before\n');
    framer.bytes(large);
    framer.text('after\n');
    framer.flush();
    const payloads = copyDataPayloads(written());
    expect(payloads.map((payload) => payload.length)).toEqual([7, maxCopyDataBytes, 10, 6]);
    expect(Buffer.concat(payloads).equals(Buffer.concat([Buffer.from('before\n'), large, Buffer.from('after\n')]))).toBe(true);
    // No copy of the byte chunk: its pieces are views of it.
    expect(writes.some((bytes) => bytes.buffer === large.buffer)).toBe(true);
  });

  it('splits a string larger than a staging buffer across messages, never inside a character', () => {
    const { framer, written } = recordingFramer();
    const long = 'é'.repeat(40_000) + '𝄞'.repeat(20_000) + 'end';
    framer.text('a');
    framer.text(long);
    framer.flush();
    const payloads = copyDataPayloads(written());
    expect(payloads.length).toBeGreaterThanOrEqual(3);
    for (const payload of payloads) {
      expect(payload.length).toBeLessThanOrEqual(64 * 1024);
      // Each message is valid UTF-8 on its own.
      expect(Buffer.from(payload.toString('utf8'), 'utf8').equals(payload)).toBe(true);
    }
    expect(Buffer.concat(payloads).toString('utf8')).toBe('a' + long);
  });

  it('reuses a staging buffer once the transport has released it, and never before', () => {
    const writes: { bytes: Uint8Array; released?: () => void }[] = [];
    const framer = new CopyDataFramer((bytes, released) => writes.push({ bytes, released }));
    framer.text('x'.repeat(60_000));
    framer.flush();
    framer.text('y'.repeat(60_000));
    framer.flush();
    // Not released yet: the second message has a buffer of its own.
    expect(writes[1]!.bytes.buffer).not.toBe(writes[0]!.bytes.buffer);
    expect(String.fromCharCode(writes[0]!.bytes[5]!)).toBe('x');
    writes[0]!.released?.();
    framer.text('z'.repeat(10));
    framer.flush();
    expect(writes[2]!.bytes.buffer).toBe(writes[0]!.bytes.buffer);
    expect(copyDataPayloads(Buffer.from(writes[2]!.bytes)).map(String)).toEqual(['z'.repeat(10)]);
  });

  it('ignores empty chunks and drops what is staged on discard', async () => {
    const { framer, written } = recordingFramer();
    framer.text('');
    framer.bytes(new Uint8Array(0));
    framer.text('dropped');
    framer.discard();
    framer.flush();
    await endOfTick();
    expect(written()).toHaveLength(0);
  });
});
