/**
 * A restricted unpickler for numeric data (protocols 2–5, and Python 2's protocol-2 pickles): dicts,
 * lists, tuples, strings, numbers and numpy arrays. Only the globals numpy uses to rebuild arrays
 * are allowed; any other global is an error, so a pickle can never run code here (unlike Python's
 * pickle.load). Shared references stay shared, and a structure whose copy-everything size would
 * pass `maxDecodedBytes` is refused, so a few hundred bytes cannot expand into gigabytes.
 */
import { decodedSizeAndPlain } from './pickle-plain.js';
import { ArrayStub, Dtype, Global, NdArray, PickleError } from './pickle-values.js';

export { NdArray, PickleError } from './pickle-values.js';

/** Limits on what `unpickle` accepts; a pickle over one gets a PickleError naming it. */
export interface UnpickleOptions {
  /**
   * Largest decoded size, in bytes, counting every reference to a shared object as a copy (what
   * walking the result visits): array and byte-string bytes, string characters, 8 per number and
   * per list or dict slot. Default 4 GiB (2^32), above any file Node can read whole (2 GiB).
   */
  maxDecodedBytes?: number;
  /** Deepest nesting of lists, tuples and dicts. Default 1000 (Python's own recursion limit). */
  maxDepth?: number;
}

export const UNPICKLE_DEFAULTS: Readonly<Required<UnpickleOptions>> = { maxDecodedBytes: 2 ** 32, maxDepth: 1000 };

/** numpy's limit on dimensions before 2.0 (NPY_MAXDIMS); more than enough for images and masks. */
const MAX_DIMS = 32;
const MAX_DIM = 2 ** 31 - 1;

const MARK = Symbol('mark');

const ALLOWED = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.ndarray',
  'numpy.dtype',
  '_codecs.encode',
  'collections.OrderedDict',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  // protocol 5: numpy rebuilds arrays from an in-band buffer
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
]);

const TYPED: Record<string, { size: number; make: (buf: ArrayBuffer, n: number) => NdArray['data'] }> = {
  f4: { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
  u1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  b1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  i2: { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  // 64-bit integers become float64 (exact up to 2^53, ample for labels and counts).
  i8: { size: 8, make: (b, n) => Float64Array.from(new BigInt64Array(b, 0, n), Number) },
  u8: { size: 8, make: (b, n) => Float64Array.from(new BigUint64Array(b, 0, n), Number) },
};

/** Bytes of a Python 2 `str` read with encoding='latin1' (numpy's raw data in Python 2 pickles). */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new PickleError('numpy array data given as a text string with characters beyond latin-1');
    out[i] = c;
  }
  return out;
}

/** Latin-1 text of bytes, in slices (spreading a large byte string into one call overflows the stack). */
function latin1Text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  return s;
}

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new PickleError(`corrupt pickle: numpy array shape is ${typeof shape}, not a tuple`);
  if (shape.length > MAX_DIMS) throw new PickleError(`numpy array has ${shape.length} dimensions; this reader allows at most ${MAX_DIMS}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new PickleError(`numpy array shape [${shape.join(', ')}]: dimension ${String(d)} is not a non-negative integer`);
    }
    if (d > MAX_DIM) throw new PickleError(`numpy array shape [${shape.join(', ')}]: dimension ${d} is over ${MAX_DIM}`);
  }
  return shape as number[];
}

function buildArray(shapeIn: unknown, dtype: unknown, fortran: boolean, rawIn: unknown): NdArray {
  if (!(dtype instanceof Dtype)) throw new PickleError('corrupt pickle: numpy array without a dtype');
  const shape = checkShape(shapeIn);
  const raw = typeof rawIn === 'string' ? latin1Bytes(rawIn) : rawIn;
  if (!(raw instanceof Uint8Array)) throw new PickleError('numpy object arrays are not supported');
  const t = TYPED[dtype.code];
  if (!t) throw new PickleError(`unsupported numpy dtype "${dtype.code}"; supported: ${Object.keys(TYPED).join(', ')}`);
  if (dtype.byteorder === '>') throw new PickleError('big-endian numpy arrays are not supported');
  const n = shape.reduce((a, b) => a * b, 1);
  if (raw.byteLength !== n * t.size) {
    throw new PickleError(`numpy array of shape [${shape}] and dtype ${dtype.code} needs ${n * t.size} bytes, the pickle holds ${raw.byteLength}`);
  }
  const copy = raw.slice().buffer; // aligned copy
  let data = t.make(copy, n);
  if (fortran && shape.length > 1) {
    if (shape.length !== 2) throw new PickleError('Fortran-ordered arrays of more than 2 dimensions are not supported');
    const [r, c] = shape as [number, number];
    const out = new (data.constructor as { new (n: number): NdArray['data'] })(n);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = data[j * r + i]!;
    data = out;
  }
  return new NdArray(dtype.code, shape, data);
}

/**
 * Parses a pickle into plain JS values: objects for dicts with string keys, arrays for lists and
 * tuples, NdArray for numpy arrays. An object the pickle shares (memo) is one shared JS value.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): unknown {
  const limits = { ...UNPICKLE_DEFAULTS, ...options };
  let protocol = -1; // −1 until PROTO: protocols 0 and 1 have none
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new PickleError(`truncated pickle: needed ${n} bytes at offset ${pos}`);
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = Number(view.getBigUint64(pos, true));
    pos += 8;
    return v;
  };
  const take = (n: number) => (need(n), bytes.subarray(pos, (pos += n)));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('truncated pickle: unterminated text line');
    const s = dec.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new PickleError('corrupt pickle: MARK expected on the stack');
    const items = stack.slice(i + 1);
    stack.length = i;
    return items;
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleError('corrupt pickle: stack underflow');
    return stack.pop();
  };
  const top = () => stack[stack.length - 1];
  const setItem = (d: unknown, k: unknown, v: unknown) => {
    if (d instanceof Map) d.set(k, v);
    else throw new PickleError('corrupt pickle: SETITEM on a non-dict');
  };
  const global = (module: string, name: string) => {
    const g = new Global(module, name);
    if (!ALLOWED.has(g.qualified)) throw new PickleError(`pickle refers to ${g.qualified}, which this reader does not allow (numeric data only)`);
    return g;
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global) || !Array.isArray(args)) throw new PickleError('corrupt pickle: REDUCE needs a global and an argument tuple');
    switch (fn.name) {
      case '_reconstruct':
        return new ArrayStub();
      case 'dtype':
        return new Dtype(String(args[0]));
      case 'encode': // _codecs.encode(str, 'latin1'): how protocol 2 stores bytes
        return Uint8Array.from(String(args[0]), (c) => c.charCodeAt(0));
      case 'OrderedDict':
        return new Map();
      case 'scalar':
        return buildArray([], args[0], false, args[1]).data[0];
      case '_frombuffer': // protocol 5: (buffer, dtype, shape, order)
        return buildArray(args[2], args[1], args[3] === 'F', args[0]);
      default:
        throw new PickleError(`unsupported call of ${fn.qualified}`);
    }
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        protocol = u8();
        if (protocol > 5) throw new PickleError(`pickle protocol ${protocol} is newer than this reader, which supports protocols 2 to 5: re-save with protocol=4`);
        break;
      }
      case 0x95: u64(); break; // FRAME
      case 0x2e: { // STOP
        return decodedSizeAndPlain(pop(), limits);
      }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x28: stack.push(MARK); break; // MARK
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const items = popMark(); const d = new Map(); for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); const d = top(); for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]); break; } // SETITEMS
      case 0x61: { const v = pop(); (top() as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); appendAll(top(), items); break; } // APPENDS
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list)
      case 0x90: { const items = popMark(); appendAll(top(), items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x4a: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { const n = u8(); const b = take(n); let v = 0n; for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!); if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n); stack.push(Number(v)); break; } // LONG1
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x49: { const s = line(); stack.push(s === '01' ? true : s === '00' ? false : Number(s)); break; } // INT
      case 0x4c: stack.push(Number(line().replace(/L$/, ''))); break; // LONG
      case 0x46: stack.push(Number(line())); break; // FLOAT
      case 0x8c: stack.push(dec.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(dec.decode(take(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(dec.decode(take(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(latin1Text(take(u8()))); break; // SHORT_BINSTRING (Python 2 str)
      case 0x54: stack.push(latin1Text(take(u32()))); break; // BINSTRING (Python 2 str)
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x8e: stack.push(take(u64())); break; // BINBYTES8
      case 0x96: stack.push(take(u64())); break; // BYTEARRAY8
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(global(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(reduce(cls, args)); break; } // NEWOBJ
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof ArrayStub) {
          if (!Array.isArray(state) || state.length !== 5) throw new PickleError('corrupt pickle: numpy array state is not (version, shape, dtype, is_fortran, data)');
          const [, shape, dtype, fortran, raw] = state as [unknown, unknown, unknown, unknown, unknown];
          obj.array = buildArray(shape, dtype, fortran === true || fortran === 1, raw);
        } else if (obj instanceof Dtype) {
          obj.byteorder = String((state as unknown[])[1]);
        } else {
          throw new PickleError('unsupported BUILD of a non-numpy object');
        }
        break;
      }
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x68: stack.push(memoGet(memo, u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(memo, u32())); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(memo, Number(line()))); break; // GET
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new PickleError('the pickle refers to an out-of-band buffer (protocol 5 with buffer_callback), whose data is not in the file: re-save it without buffer_callback');
      default:
        throw new PickleError(
          protocol < 2
            ? `a pickle of protocol 0 or 1 (opcode 0x${op.toString(16)} at offset ${pos - 1}); this reader supports protocols 2 to 5: re-save it with pickle.dump(obj, f, protocol=4)`
            : `unsupported or corrupt pickle opcode 0x${op.toString(16)} at offset ${pos - 1}`,
        );
    }
  }
}

function memoGet(memo: Map<number, unknown>, i: number): unknown {
  if (!memo.has(i)) throw new PickleError(`corrupt pickle: memo entry ${i} is missing`);
  return memo.get(i);
}

function appendAll(target: unknown, items: unknown[]): void {
  if (!Array.isArray(target)) throw new PickleError('corrupt pickle: APPENDS on a non-list');
  for (const item of items) target.push(item); // not push(...items): a long list would overflow the stack
}
