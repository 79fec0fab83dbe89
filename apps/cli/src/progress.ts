/** Progress lines for long work: step counts, rate and time left, on stderr. */
export class Progress {
  private readonly start = performance.now();
  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  update(done: number, details = ''): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const pct = ((100 * done) / this.total).toFixed(0).padStart(3);
    this.write(`${this.label} ${String(done).padStart(String(this.total).length)}/${this.total} ${pct}%  ${details}  ${formatSeconds(elapsed)} elapsed, ${formatSeconds(eta)} left`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
