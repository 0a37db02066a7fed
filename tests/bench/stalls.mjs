// When a runtime's thread is busy without a break, and with what: a live frame that arrives then
// waits for the whole stretch. From a system-wide `perf record` taken during a fan-out:
//   perf record -a -F 999 -g -k CLOCK_MONOTONIC -o f.data -- sleep 100   (date +%s.%N > t0 first)
//   node tests/bench/stalls.mjs f.data <runtime workerd pid> [FANOUT_TRACE file] [t0 file]
// Prints how many busy stretches (samples less than 1.6 ms apart: ~1 ms each at 999 Hz) of each
// length the thread ran, what the stretches of 10 ms or more spent their samples on, and with a
// trace (`FANOUT_TRACE`) how many of the slow messages (median delivery over 8 ms) were sent
// during a stretch of 8 ms or more. The trace's clock and perf's are aligned by the shift that
// puts the most slow messages in long stretches, searched within ±2 s of the `t0` file's time.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [file, tidArg, trace, t0file] = process.argv.slice(2);
if (!file || !tidArg) {
  console.error("usage: node tests/bench/stalls.mjs <perf.data> <tid> [trace] [t0]");
  process.exit(2);
}
const text = execFileSync("perf", ["script", "-i", file, "-F", "pid,tid,time,ip,sym,dso", "--ns"], {
  encoding: "utf8",
  maxBuffer: 1 << 30,
  stdio: ["ignore", "pipe", "ignore"],
});
let first = Infinity;
const samples = [];
for (const block of text.split("\n\n")) {
  const h = block.match(/^\s*(\d+)\/(\d+)\s+([\d.]+):/);
  if (!h) continue;
  const t = Number(h[3]) * 1000;
  first = Math.min(first, t);
  if (h[2] !== tidArg) continue;
  samples.push({ t, frames: block.split("\n").slice(1).map((l) => l.trim().replace(/^[0-9a-f]+ /, "")) });
}
samples.sort((a, b) => a.t - b.t);

// What a sample was for: work done anywhere below SQLite counts as SQLite (the statement, its
// journal and WAL writes); otherwise the leaf's owner, as in perfcat.mjs.
const marks = {
  "SQLite (any frame)": /sqlite3|btree|pager|vdbe|walWrite/i,
  "fsync": /^fsync/,
  "alarm writes": /AlarmScheduler::setAlarm/,
  "search index (FTS5)": /fts5/i,
  "subrequest (fetch)": /fetchImpl|Fetcher::/,
  "WebSocket send": /WebSocket::send/,
  "V8 GC": /Heap::|Scavenge|MarkCompact/,
  "wasm wrappers": /Wasm|Liftoff/,
};

const runs = [];
let cur = null;
for (const s of samples) {
  if (cur && s.t - cur.end < 1.6) {
    cur.end = s.t;
    cur.s.push(s);
  } else {
    cur = { start: s.t, end: s.t, s: [s] };
    runs.push(cur);
  }
}
const bucket = (n) => (n >= 20 ? "20+" : n >= 10 ? "10-19" : n >= 5 ? "5-9" : n >= 3 ? "3-4" : "1-2");
const hist = {};
for (const r of runs) hist[bucket(r.s.length)] = (hist[bucket(r.s.length)] ?? 0) + 1;
console.log(`thread ${tidArg}: ${samples.length} samples, busy stretches by length (samples ≈ ms):`, hist);
const long = runs.filter((r) => r.s.length >= 10);
const n = long.reduce((a, r) => a + r.s.length, 0);
console.log(`stretches of 10 or more: ${long.length} (${n} samples); share of their samples with a frame of:`);
for (const [name, re] of Object.entries(marks)) {
  const k = long.reduce((a, r) => a + r.s.filter((s) => s.frames.some((f) => re.test(f))).length, 0);
  console.log(`  ${((100 * k) / Math.max(n, 1)).toFixed(1).padStart(5)} %  ${name}`);
}

if (trace && t0file) {
  const sent = new Map();
  for (const l of readFileSync(trace, "utf8").split("\n")) {
    if (!l) continue;
    const [us, ms] = l.split(" ");
    (sent.get(us) ?? sent.set(us, []).get(us)).push(Number(ms));
  }
  const msgs = [...sent].map(([us, v]) => ({ at: Number(us) / 1000, median: v.sort((a, b) => a - b)[v.length >> 1] }));
  const slow = msgs.filter((m) => m.median > 8);
  const long8 = runs.filter((r) => r.end - r.start >= 8);
  const inLong = (at) => long8.some((r) => r.start - 2 <= at && at <= r.end);
  const base = Number(readFileSync(t0file, "utf8")) * 1000 - first;
  let best = { shift: 0, hits: -1 };
  for (let d = -2000; d <= 2000; d++) {
    const hits = slow.filter((m) => inLong(m.at - base - d)).length;
    if (hits > best.hits) best = { shift: d, hits };
  }
  const fast = msgs.length - slow.length;
  const fastIn = msgs.filter((m) => m.median <= 8 && inLong(m.at - base - best.shift)).length;
  console.log(
    `messages ${msgs.length}: ${slow.length} slow, ${best.hits} of them sent during a stretch of 8 ms or more (${long8.length} such stretches); ${fastIn} of ${fast} fast ones too (clock shift ${best.shift} ms)`,
  );
}
