/** The values the restricted unpickler (pickle.ts) builds, apart from plain JS values. */

/** A numpy array read from a pickle: `data` is row-major (C order). */
export class NdArray {
  constructor(
    readonly dtype: string,
    readonly shape: number[],
    readonly data: Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array,
  ) {}
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** A module-level name the pickle refers to (only the allowed ones are ever made). */
export class Global {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A numpy dtype being rebuilt. */
export class Dtype {
  byteorder = '<';
  constructor(readonly code: string) {}
}
/** A numpy array under construction: REDUCE makes the stub, BUILD fills it. */
export class ArrayStub {
  array?: NdArray;
}
