// Inclusive time of named work in a saved CPU profile (tests/bench/profile.mjs writes them):
//   node tests/bench/inclusive.mjs <file.cpuprofile> <label=regex>...
// For each label, the share of the profile's busy samples (idle left out) whose stack holds a
// frame whose function name matches its regex, counted once per sample however deep. Self time
// (profile.mjs) says which function burns the CPU; this says which piece of work the CPU was
// spent for, e.g. `gate=auth::live` or `leads=leads::capture`.
import { readFileSync } from "node:fs";

const [file, ...specs] = process.argv.slice(2);
if (!file || specs.length === 0) {
  console.error("usage: node tests/bench/inclusive.mjs <file.cpuprofile> <label=regex>...");
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, "utf8"));
const parent = new Map();
const byId = new Map();
for (const n of p.nodes) {
  byId.set(n.id, n);
  for (const c of n.children || []) parent.set(c, n.id);
}
const labels = specs.map((s) => {
  const i = s.indexOf("=");
  return { label: s.slice(0, i), re: new RegExp(s.slice(i + 1)), n: 0 };
});
// Stack of each node, memoised: the set of labels it falls under.
const memo = new Map();
function under(id) {
  if (memo.has(id)) return memo.get(id);
  const n = byId.get(id);
  const up = parent.has(id) ? under(parent.get(id)) : new Set();
  const set = new Set(up);
  labels.forEach((l, i) => {
    if (l.re.test(n.callFrame.functionName || "")) set.add(i);
  });
  memo.set(id, set);
  return set;
}
let busy = 0;
for (const s of p.samples) {
  const name = byId.get(s).callFrame.functionName;
  if (name === "(idle)") continue;
  busy++;
  for (const i of under(s)) labels[i].n++;
}
console.log(`${file}: ${busy} busy samples of ${p.samples.length}`);
for (const l of labels) console.log(`${((100 * l.n) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${l.label}  /${l.re.source}/`);
