/** When the consumed prefix of the backing array is this long (and at least half of it), it is cut off. */
const COMPACT_AFTER = 1024;

/**
 * A FIFO queue on one array with a head index: `shift` is O(1) (no `Array.prototype.shift`
 * moving every element), consumed slots are cleared at once so their values can be collected,
 * and the consumed prefix is cut off in amortised O(1) once it is long enough, so the array
 * never grows beyond about twice the largest number of values held at one time.
 * @internal
 */
export class ValueQueue<T> {
  #items: T[] = [];
  #head = 0;

  /** How many values are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  push(value: T): void {
    this.#items.push(value);
  }

  /** Takes the oldest value; the caller checks `length > 0` first. */
  shift(): T {
    const items = this.#items;
    const value = items[this.#head] as T;
    items[this.#head] = undefined as T;
    this.#head += 1;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= items.length) {
      items.copyWithin(0, this.#head);
      items.length -= this.#head;
      this.#head = 0;
    }
    return value;
  }

  /** Drops every value. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
