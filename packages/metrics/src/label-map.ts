/** A row-major label map: `data[y * width + x]` is the class index of pixel (x, y). */
export interface LabelMap {
  data: ArrayLike<number>;
  height: number;
  width: number;
}

/** A bad argument to a metric; the message names the value and what was expected. */
export class MetricInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricInputError';
  }
}

/** Checks one map's shape and that every label is a non-negative integer. */
export function checkLabelMap(map: LabelMap, what: string): void {
  if (!map || typeof map !== 'object' || !map.data) throw new MetricInputError(`${what} is not a label map {data, height, width}`);
  const { height, width, data } = map;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new MetricInputError(`${what} has size ${height}×${width}; height and width must be positive integers`);
  }
  if (data.length !== height * width) {
    throw new MetricInputError(`${what} has ${data.length} labels but its size ${height}×${width} needs ${height * width}`);
  }
}

/** Checks that all maps share one size; returns the number of pixels. */
export function checkSameSize(maps: readonly LabelMap[], what: string): number {
  if (maps.length === 0) throw new MetricInputError(`${what} is empty: give at least one label map`);
  const first = maps[0]!;
  maps.forEach((m, i) => {
    checkLabelMap(m, `${what}[${i}]`);
    if (m.height !== first.height || m.width !== first.width) {
      throw new MetricInputError(`${what}[${i}] is ${m.height}×${m.width} but ${what}[0] is ${first.height}×${first.width}: all maps must share one size`);
    }
  });
  return first.height * first.width;
}

export function badLabel(value: number, index: number, what: string): MetricInputError {
  return new MetricInputError(`${what} has the label ${value} at pixel ${index}; labels must be non-negative integers`);
}

/** Pixels that carry `ignoreLabel` in any of the maps, as a bitset (bit set = ignored). */
export function ignoreMaskOf(maps: readonly LabelMap[], ignoreLabel: number | undefined, pixels: number): Uint32Array | undefined {
  if (ignoreLabel === undefined) return undefined;
  const mask = new Uint32Array((pixels + 31) >>> 5);
  let any = false;
  for (const m of maps) {
    const d = m.data;
    for (let p = 0; p < pixels; p++) {
      if (d[p] === ignoreLabel) {
        mask[p >>> 5]! |= 1 << (p & 31);
        any = true;
      }
    }
  }
  return any ? mask : undefined;
}
