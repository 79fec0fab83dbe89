import { VIRIDIS_TABLE } from './viridis-table.js';

/**
 * Matplotlib's viridis at t ∈ [0, 1] as 8-bit sRGB, looked up the way matplotlib does: entry
 * ⌊256·t⌋ of its 256 (t = 1 is the last; t outside [0, 1] is clamped; NaN is the first entry).
 */
export function viridis(t: number): [number, number, number] {
  const i = Number.isNaN(t) || t <= 0 ? 0 : t >= 1 ? 255 : Math.min(255, Math.floor(t * 256));
  return [VIRIDIS_TABLE[3 * i]!, VIRIDIS_TABLE[3 * i + 1]!, VIRIDIS_TABLE[3 * i + 2]!];
}
