/**
 * `items` mapped into a fresh plain array, leaving out `skip`. Never `items.map()`: an Array
 * subclass (or a Proxy naming one as its constructor) makes map() build that class, whose own
 * toJSON() would then decide what JSON.stringify sends.
 */
export function plainArray<T>(items: readonly unknown[], map: (item: unknown) => T, skip: unknown): T[] {
  const out: T[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const mapped = map(items[i]);
    if (mapped !== skip) out.push(mapped);
  }
  return out;
}
