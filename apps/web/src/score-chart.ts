export interface ScoreRow {
  name: string;
  elbo: number;
  logLikelihood: number;
  kl: number;
}

/**
 * A strip chart: each annotation's log-likelihood (nats) on one axis, the graders' as grey dots and
 * the user's as a red diamond, with a labelled axis and a legend.
 */
export function drawScoreChart(canvas: HTMLCanvasElement, rows: ScoreRow[]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const values = rows.map((r) => r.logLikelihood);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const left = 40;
  const right = width - 20;
  const axisY = height - 45;
  const xOf = (v: number) => left + ((v - lo) / (hi - lo)) * (right - left);
  ctx.strokeStyle = '#333';
  ctx.fillStyle = '#333';
  ctx.font = '12px system-ui, sans-serif';
  ctx.beginPath();
  ctx.moveTo(left, axisY);
  ctx.lineTo(right, axisY);
  ctx.stroke();
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    const x = xOf(v);
    ctx.beginPath();
    ctx.moveTo(x, axisY);
    ctx.lineTo(x, axisY + 5);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.fillText(v.toFixed(1), x, axisY + 18);
  }
  ctx.fillText('log-likelihood log p(y|x) of each annotation (nats, importance-sampled; higher = more plausible)', (left + right) / 2, axisY + 36);
  rows.forEach((r, i) => {
    const x = xOf(r.logLikelihood);
    const mine = r.name === 'your annotation';
    const y = mine ? axisY - 40 : axisY - 15 - (i % 2) * 12;
    ctx.fillStyle = mine ? '#c62828' : '#757575';
    ctx.beginPath();
    if (mine) {
      ctx.moveTo(x, y - 7);
      ctx.lineTo(x + 7, y);
      ctx.lineTo(x, y + 7);
      ctx.lineTo(x - 7, y);
    } else ctx.arc(x, y, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.textAlign = 'center';
    ctx.fillText(mine ? 'yours' : r.name.replace('grader ', 'G'), x, y - 10);
  });
  ctx.textAlign = 'left';
  ctx.fillStyle = '#c62828';
  ctx.fillText('◆ your annotation', left, 14);
  ctx.fillStyle = '#757575';
  ctx.fillText("● the image's graders", left + 130, 14);
}
