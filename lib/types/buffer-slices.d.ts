// Node's Buffer has unchecked slicers, the cores of `toString('utf8' | 'latin1', start, end)`
// without its argument checks and encoding lookup, which cost as much as the slicing itself on
// short values (measured on the row path: 14 % of a raw-row stream). The row data path calls
// them with ranges it has checked itself. Declared once here for the whole library; not part of
// the published declarations (a .d.ts is not emitted), and no public signature names them.

declare global {
  interface Buffer {
    /** `toString('utf8', start, end)` without its checks: `start` and `end` must be in range. */
    utf8Slice(start: number, end: number): string;
    /** `toString('latin1', start, end)` without its checks: `start` and `end` must be in range. */
    latin1Slice(start: number, end: number): string;
  }
}

export {};
