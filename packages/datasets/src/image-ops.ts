/** Row-major single-channel crop of the central h×w window. */
export function centerCrop<T extends Float32Array | Uint8Array>(data: T, height: number, width: number, channels: number, h: number, w: number): T {
  if (h > height || w > width) throw new RangeError(`cannot centre-crop ${height}×${width} to ${h}×${w}`);
  const y0 = Math.floor((height - h) / 2);
  const x0 = Math.floor((width - w) / 2);
  const out = new (data.constructor as { new (n: number): T })(h * w * channels);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * width + x0) * channels;
    out.set(data.subarray(src, src + w * channels), y * w * channels);
  }
  return out;
}

/** Bilinear resize (half-pixel centres, as OpenCV/PIL), for images. */
export function resizeBilinear(data: Float32Array, height: number, width: number, channels: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w * channels);
  const sy = height / h;
  const sx = width / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const a = data[(y0 * width + x0) * channels + c]!;
        const b = data[(y0 * width + x1) * channels + c]!;
        const d = data[(y1 * width + x0) * channels + c]!;
        const e = data[(y1 * width + x1) * channels + c]!;
        out[(y * w + x) * channels + c] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * d + wx * e);
      }
    }
  }
  return out;
}

/** Nearest-neighbour resize (pixel centres), for label maps. */
export function resizeNearest(data: Uint8Array, height: number, width: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / h));
    for (let x = 0; x < w; x++) out[y * w + x] = data[sy * width + Math.min(width - 1, Math.floor(((x + 0.5) * width) / w))]!;
  }
  return out;
}
