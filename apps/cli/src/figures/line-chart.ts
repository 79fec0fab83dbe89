export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

/** A small self-contained SVG line chart (no dependencies), for training curves. */
export function lineChartSvg(title: string, xLabel: string, series: Series[], options: { width?: number; height?: number; logY?: boolean } = {}): string {
  const W = options.width ?? 640;
  const H = options.height ?? 360;
  const m = { l: 64, r: 16, t: 32, b: 44 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
  const tf = (y: number) => (options.logY ? Math.log10(y) : y);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => tf(y));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((tf(y) - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const ticks = 5;
  const yTicks = Array.from({ length: ticks + 1 }, (_, i) => y0 + ((y1 - y0) * i) / ticks);
  const fmt = (v: number) => {
    const val = options.logY ? 10 ** v : v;
    return Math.abs(val) >= 100 ? val.toFixed(0) : val.toPrecision(3);
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    ...yTicks.map((t) => {
      const y = H - m.b - ((t - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
      return `<line x1="${m.l - 4}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#ddd"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`;
    }),
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text x="${m.l}" y="${H - m.b + 16}" text-anchor="middle">${x0}</text><text x="${W - m.r}" y="${H - m.b + 16}" text-anchor="end">${x1}</text>`,
  ];
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(`<rect x="${W - m.r - 150}" y="${m.t + 4 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - m.r - 135}" y="${m.t + 13 + i * 16}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
