/**
 * Turns what the unpickler built into plain JS values, keeping every shared reference shared (one
 * conversion per pickled object, as Python's memo does), and measures the decoded size a walk of the
 * result would see, counting each reference as a copy. A pickle bomb (each list holding the previous
 * one several times) is a few hundred bytes with a small shared graph but an astronomic walk: it is
 * refused here, in time linear in the graph, before anyone walks it.
 */
import { ArrayStub, Dtype, Global, NdArray, PickleError } from './pickle-values.js';

/** 8 bytes per number and per list slot, 16 per dict entry: what a copy would hold at least. */
const SLOT_BYTES = 8;

export function decodedSizeAndPlain(root: unknown, limits: { maxDecodedBytes: number; maxDepth: number }): unknown {
  const plain = new Map<object, unknown>(); // finished conversions, by pickled object
  const size = new Map<object, number>(); // their decoded sizes, shared references counted as copies
  const open = new Set<object>(); // containers on the current path: meeting one again is a cycle
  const check = (total: number) => {
    if (total > limits.maxDecodedBytes) {
      throw new PickleError(
        `the pickle's data expands to more than ${limits.maxDecodedBytes.toLocaleString('en')} bytes (maxDecodedBytes) when each shared reference counts as a copy: ` +
          'a pickle bomb, or data larger than expected (then raise maxDecodedBytes)',
      );
    }
    return total;
  };
  const visit = (v: unknown, depth: number): [unknown, number] => {
    if (v instanceof ArrayStub) {
      if (!v.array) throw new PickleError('corrupt pickle: a numpy array was never filled');
      return [v.array, v.array.data.byteLength];
    }
    if (v instanceof NdArray || v instanceof Uint8Array) return [v, v instanceof NdArray ? v.data.byteLength : v.byteLength];
    if (typeof v === 'string') return [v, v.length];
    if (v instanceof Global || v instanceof Dtype) throw new PickleError('the pickle holds a bare class or dtype, not data');
    if (!(v instanceof Map) && !Array.isArray(v)) return [v, SLOT_BYTES];
    const done = plain.get(v);
    if (done !== undefined) return [done, size.get(v)!];
    if (open.has(v)) throw new PickleError('the pickle holds a list or dict that refers to itself, which numeric data never needs');
    if (depth >= limits.maxDepth) throw new PickleError(`the pickle's lists and dicts are nested deeper than ${limits.maxDepth} levels (maxDepth)`);
    open.add(v);
    let out: unknown[] | Record<string, unknown>;
    let total: number;
    if (Array.isArray(v)) {
      const list: unknown[] = [];
      total = SLOT_BYTES * v.length;
      for (const item of v) {
        const [p, n] = visit(item, depth + 1);
        list.push(p);
        total = check(total + n);
      }
      out = list;
    } else {
      const dict: Record<string, unknown> = {};
      total = 2 * SLOT_BYTES * v.size;
      for (const [k, val] of v as Map<unknown, unknown>) {
        const [p, n] = visit(val, depth + 1);
        const key = dictKey(k);
        dict[key] = p;
        total = check(total + n + key.length);
      }
      out = dict;
    }
    open.delete(v);
    plain.set(v, out);
    size.set(v, check(total));
    return [out, total];
  };
  return visit(root, 0)[0];
}

/** A dict key as a string: str, bytes, numbers, bools and None, or a flat tuple of them (as "1,2"). */
function dictKey(k: unknown): string {
  const scalar = (x: unknown) => x === null || typeof x !== 'object' || x instanceof Uint8Array;
  if (scalar(k) || (Array.isArray(k) && k.length <= 64 && k.every(scalar))) return String(k);
  throw new PickleError('the pickle has a dict key that is a list, dict or nested tuple; numeric data needs str or number keys');
}
