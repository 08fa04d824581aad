import type { CliIO } from './command.ts';

/**
 * A progress bar for long commands: on a TTY it redraws one stderr line (throttled to ~10/s); off a
 * TTY, or with --json, it prints nothing and the command prints one final line itself.
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly io: CliIO,
    private readonly total: number,
    private readonly label: string,
    private readonly quiet = false,
  ) {}

  /** fields: extra "key value" pairs, e.g. {loss: '2.31', 'tok/s': '8123'} */
  update(done: number, fields: Record<string, string> = {}, force = false): void {
    if (this.quiet || !this.io.isTTY) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    this.io.errRaw(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}  ${extra}  ETA ${formatSeconds(eta)}\x1b[K`,
    );
  }

  done(): void {
    if (this.quiet || !this.io.isTTY) return;
    this.io.errRaw('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
