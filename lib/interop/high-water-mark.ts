/** The default high-water mark of the pull bridges, in values (rows). @internal */
export const DEFAULT_HIGH_WATER_MARK = 1000;

/**
 * Validates a bridge's `highWaterMark` option (`undefined` gives the default).
 * Errors: RangeError unless it is an integer ≥ 1.
 * @internal
 */
export function highWaterMarkOption(bridge: string, value: unknown): number {
  if (value === undefined) return DEFAULT_HIGH_WATER_MARK;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const shown = typeof value === 'number' ? String(value) : `${typeof value} ${JSON.stringify(value) ?? ''}`.trim();
    throw new RangeError(`${bridge}: highWaterMark must be an integer ≥ 1, got ${shown}`);
  }
  return value;
}
