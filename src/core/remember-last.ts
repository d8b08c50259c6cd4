// A function of one argument that remembers its last argument and result. Gateway work keyed by the millisecond (ids,
// timestamps) repeats for every request of that millisecond under load, and formatting a number as text cost more
// than the rest of the work around it.

export function rememberLast<K, V>(compute: (key: K) => V): (key: K) => V {
  let computed = false;
  let lastKey: K;
  let lastValue: V;
  return (key) => {
    if (!computed || key !== lastKey) {
      // Computed before anything is remembered: an argument that throws is not taken for a good one next time.
      lastValue = compute(key);
      lastKey = key;
      computed = true;
    }
    return lastValue;
  };
}
