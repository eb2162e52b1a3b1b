import { bidiL, bidiRandAL, CodePointSet, prohibitedOutput, unassignedInUnicode32 } from './stringprep-tables';

/**
 * RFC 3454 C.1.2, non-ASCII space characters: SASLprep maps each to U+0020 (RFC 4013 §2.1).
 * U+200B ZERO WIDTH SPACE is also in B.1; PostgreSQL maps it to a space, and so do we.
 */
const nonAsciiSpace = new CodePointSet('00A0 1680 2000-200B 202F 205F 3000');

/** RFC 3454 B.1, "commonly mapped to nothing": SASLprep removes them (RFC 4013 §2.1). */
const mappedToNothing = new CodePointSet('00AD 034F 1806 180B-180D 200B-200D 2060 FE00-FE0F FEFF');

const printableAscii = /^[\x20-\x7e]*$/;

/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454 for user names and passwords), the
 * way PostgreSQL's `pg_saslprep` applies it to SCRAM passwords. Returns the prepared string,
 * or `undefined` when SASLprep rejects the input.
 *
 * Steps: printable ASCII is returned unchanged (the common case; nothing in SASLprep touches
 * it). Otherwise non-ASCII spaces (C.1.2) become U+0020 and the B.1 characters
 * are removed; an input that maps to nothing is rejected. The mapped string is then checked:
 * any prohibited character (C.1.2–C.9), any code point unassigned in Unicode 3.2 (A.1) or a
 * broken bidirectional rule (RFC 3454 §6: with a R/AL character there may be no L character,
 * and the first and last characters must be R/AL) rejects it. Finally it is NFKC-normalised.
 *
 * Like PostgreSQL, and unlike the letter of RFC 4013, the checks look at the mapped string
 * before normalisation: U+0340 is rejected even though NFKC turns it into the allowed U+0300,
 * and U+2135 ALEF SYMBOL counts as L although NFKC turns it into HEBREW LETTER ALEF. Matching
 * the server matters more than matching the RFC here, since the server (or `psql`'s
 * `\password`) prepared the password the same way when it computed the stored verifier.
 *
 * A lone UTF-16 surrogate is a C.5 code point, so a string holding one is rejected. ASCII
 * control characters are rejected too, as the RFC says; PostgreSQL returns an all-ASCII
 * string unchanged instead, which {@link prepareScramPassword} reproduces through its fallback.
 */
export function saslPrep(input: string): string | undefined {
  if (printableAscii.test(input)) return input;

  const mapped: number[] = [];
  for (const character of input) {
    const codePoint = character.codePointAt(0)!;
    if (nonAsciiSpace.has(codePoint)) mapped.push(0x20);
    else if (!mappedToNothing.has(codePoint)) mapped.push(codePoint);
  }
  if (mapped.length === 0) return undefined;

  let hasRandAL = false;
  let hasL = false;
  for (const codePoint of mapped) {
    if (prohibitedOutput.has(codePoint) || unassignedInUnicode32.has(codePoint)) return undefined;
    if (bidiRandAL.has(codePoint)) hasRandAL = true;
    else if (bidiL.has(codePoint)) hasL = true;
  }
  if (hasRandAL && (hasL || !bidiRandAL.has(mapped[0]!) || !bidiRandAL.has(mapped[mapped.length - 1]!))) {
    return undefined;
  }

  let prepared = '';
  for (const codePoint of mapped) prepared += String.fromCodePoint(codePoint);
  return prepared.normalize('NFKC');
}

/**
 * The password as a SCRAM client must hash it for PostgreSQL: its SASLprep form, or, when
 * SASLprep rejects it, the password itself (PostgreSQL stores and checks such passwords as
 * their raw bytes, so the client must send the same). Encode the result as UTF-8.
 */
export function prepareScramPassword(password: string): string {
  return saslPrep(password) ?? password;
}
