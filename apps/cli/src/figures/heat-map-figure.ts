import { viridis } from '@probunet/colour-maps';
import { heatImage } from './colour.js';
import { Figure } from './labelled-figure.js';

/**
 * A labelled heat map PNG: title, the map (viridis, `min` → `max`), and a vertical colour scale
 * with its unit and 5 tick values.
 */
export async function heatMapFigure(
  values: Float32Array,
  width: number,
  height: number,
  options: { title: string; unit: string; min: number; max: number },
): Promise<Uint8Array> {
  const scale = Math.max(1, Math.round(256 / Math.max(width, height)));
  const pad = 10;
  const mapW = width * scale;
  const mapH = height * scale;
  const barW = 16;
  const ticks = Array.from({ length: 5 }, (_, i) => options.min + ((options.max - options.min) * i) / 4);
  const tickText = ticks.map((t) => formatTick(t));
  const labelW = Math.max(...(await Promise.all([...tickText, options.unit].map((t) => Figure.textWidth(t)))));
  const titleW = await Figure.textWidth(options.title);
  const top = 2 * pad + 16;
  const figW = Math.max(pad + mapW + pad + barW + 6 + labelW + pad, titleW + 2 * pad);
  const fig = await Figure.create(figW, top + mapH + pad + 20);
  fig.text(pad, pad, options.title);
  fig.draw(pad, top, heatImage(values, width, height, options.min, options.max), scale);
  const barX = pad + mapW + pad;
  for (let y = 0; y < mapH; y++) fig.fillRect(barX, top + y, barW, 1, viridis(1 - y / Math.max(1, mapH - 1)));
  ticks.forEach((_, i) => {
    const y = top + Math.round((1 - i / 4) * (mapH - 1));
    fig.fillRect(barX + barW, y, 4, 1, [0, 0, 0]);
    fig.text(barX + barW + 6, Math.min(top + mapH - fig.lineHeight / 2, Math.max(top - fig.lineHeight / 2, y - fig.lineHeight / 2)), tickText[i]!);
  });
  fig.text(barX, top + mapH + 4, options.unit);
  return fig.png();
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}
