/**
 * True when `A` and `B` are the same type: each is assignable to the other and neither is
 * `any` where the other is not (the deferred-conditional comparison, stricter than mutual
 * assignability).
 */
export type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;

/**
 * Compiles only when `actual`'s type is exactly `Expected` (not a subtype, not a supertype);
 * returns `actual`. The check is the compiler's: ts-jest only transpiles, so the spec that uses
 * it also type-checks its own file with the TypeScript compiler.
 *
 * @example
 * expectType<Observable<RawRow>>()(connection.query('SELECT 1', [], { rowMode: 'raw' }));
 */
export function expectType<Expected>(): <Actual>(
  actual: Actual,
  ...exact: Equal<Actual, Expected> extends true ? [] : [mismatch: { expected: Expected; actual: Actual }]
) => Actual {
  return <Actual>(actual: Actual, ...exact: unknown[]): Actual => {
    void exact;
    return actual;
  };
}

/**
 * Type-checks `calls` without running them: for calls that must not compile, each under a
 * `// @ts-expect-error` (the compiler reports a directive with no error under it).
 */
export function compileOnly(calls: () => unknown): void {
  void calls;
}
