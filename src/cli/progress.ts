/**
 * Progress for long work: a redrawn bar on a terminal, plain lines (every 10 %, or every 10 s
 * when the total is unknown) in CI and logs.
 */
export function createProgress(label: string, total: number | null, out: NodeJS.WriteStream = process.stderr) {
  const tty = Boolean(out.isTTY) && !process.env.CI;
  const started = Date.now();
  let done = 0;
  let lastDecile = -1;
  let lastLine = started;
  let lastDraw = 0;
  const rate = () => Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
  const draw = (final = false) => {
    const now = Date.now();
    if (tty) {
      if (!final && now - lastDraw < 100) return;
      lastDraw = now;
      const frac = total ? Math.min(done / total, 1) : 0;
      const bar = total ? `[${'#'.repeat(Math.round(frac * 30)).padEnd(30, '.')}] ${(frac * 100).toFixed(0).padStart(3)}% ` : '';
      out.write(`\r${label} ${bar}${done.toLocaleString('en')}${total ? `/${total.toLocaleString('en')}` : ''} (${rate().toLocaleString('en')}/s)${final ? '\n' : ''}`);
      return;
    }
    const decile = total ? Math.floor((done / total) * 10) : -1;
    if (final || (total ? decile > lastDecile : now - lastLine > 10_000)) {
      lastDecile = decile;
      lastLine = now;
      out.write(`${label}: ${done.toLocaleString('en')}${total ? `/${total.toLocaleString('en')} (${Math.floor((done / total) * 100)}%)` : ''} ${rate().toLocaleString('en')}/s${final ? ' done' : ''}\n`);
    }
  };
  return {
    add(n: number) {
      done += n;
      draw();
    },
    finish() {
      draw(true);
    },
  };
}
