// Summarises FANOUT_TRACE files (`<send time µs> <latency ms>` per delivery, written by
// `prism_bench --fanout-only`): which messages were slow, and whether the slow ones come at the
// mirror's flush period (a slow message every window points at work done once per window, not
// per message).
//
//   node tests/bench/trace.mjs [--window=100] [--slow=8] /tmp/tr.50x2.prism /tmp/tr.50x2.js-mirror …
//
// A message is slow when the median of its deliveries took longer than --slow ms (a message is
// delivered to every client at once: the median is the message's own delay, not one socket's).
// "At the window": the gap to the previous slow message is within a tenth of the window of a
// whole number of windows; gaps landing there by chance do so 20 % of the time.
import { readFileSync } from 'node:fs';

const opts = { window: 100, slow: 8 };
const files = [];
for (const a of process.argv.slice(2)) {
  const m = a.match(/^--(window|slow)=(\d+(?:\.\d+)?)$/);
  if (m) opts[m[1]] = Number(m[2]);
  else files.push(a);
}
if (files.length === 0) {
  console.error('usage: node tests/bench/trace.mjs [--window=100] [--slow=8] TRACE…');
  process.exit(2);
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

for (const file of files) {
  const byMessage = new Map();
  const all = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [at, ms] = line.trim().split(/\s+/).map(Number);
    if (!Number.isFinite(at) || !Number.isFinite(ms)) continue;
    all.push(ms);
    if (!byMessage.has(at)) byMessage.set(at, []);
    byMessage.get(at).push(ms);
  }
  if (all.length === 0) {
    console.log(`${file}: no deliveries`);
    continue;
  }
  all.sort((a, b) => a - b);
  const messages = [...byMessage.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([at, l]) => [at, l.sort((a, b) => a - b)[Math.floor(l.length / 2)]]);
  const medians = messages.map((m) => m[1]).sort((a, b) => a - b);
  const slow = messages.filter((m) => m[1] > opts.slow).map((m) => m[0] / 1000);
  const tolerance = opts.window / 10;
  let atWindow = 0;
  for (let i = 1; i < slow.length; i++) {
    const r = (slow[i] - slow[i - 1]) % opts.window;
    if (r <= tolerance || r >= opts.window - tolerance) atWindow++;
  }
  const gaps = Math.max(0, slow.length - 1);
  const f = (x) => x.toFixed(1);
  console.log(
    `${file}: ${all.length} deliveries of ${messages.length} messages; delivery p50 ${f(quantile(all, 0.5))} ms, p99 ${f(quantile(all, 0.99))} ms; ` +
      `message delay p50 ${f(quantile(medians, 0.5))}, p90 ${f(quantile(medians, 0.9))}, p99 ${f(quantile(medians, 0.99))}, max ${f(medians[medians.length - 1])} ms; ` +
      `${slow.length} messages over ${opts.slow} ms, ${atWindow} of ${gaps} gaps between them at the ${opts.window}-ms window` +
      (gaps ? ` (${f((100 * atWindow) / gaps)} %, chance 20 %)` : ''),
  );
}
