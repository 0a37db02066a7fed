// Where a workerd process's CPU goes, from a `perf record` of it (the runtime's own C++ as well
// as JavaScript and wasm, which the V8 inspector's profiler alone cannot show):
//   perf record -F 999 -g -p <runtime workerd pid> -o a.data -- sleep 10
//   node tests/bench/perfcat.mjs a.data <requests in a> [b.data <requests in b>]
// Prints samples per 1,000 requests by category, and with a second recording the symbols whose
// samples per request grew most from b to a (e.g. PrismAI against the same-work JS worker).
import { execFileSync } from "node:child_process";

const [fa, na, fb, nb] = process.argv.slice(2);
if (!fa || !na) {
  console.error("usage: node tests/bench/perfcat.mjs a.data <requests> [b.data <requests>]");
  process.exit(2);
}

function symbols(file) {
  const out = execFileSync(
    "perf",
    ["report", "-i", file, "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none", "-F", "sample,dso,sym"],
    { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] },
  );
  const m = new Map();
  for (const line of out.split("\n")) {
    const r = line.match(/^\s+(\d+)\s+(.+?)\s+\[(.)\]\s+(.*)$/);
    if (r) m.set(`${r[3]} ${r[4].trim()}`, (m.get(`${r[3]} ${r[4].trim()}`) ?? 0) + Number(r[1]));
  }
  return m;
}

// Coarse owners of a symbol; JIT-compiled JavaScript and wasm have no symbol and land in "jit".
function category(key) {
  const [kind, ...rest] = key.split(" ");
  const s = rest.join(" ");
  if (kind === "k") return s.includes("iowrite") ? "kernel: device I/O" : "kernel";
  if (/compiler::|turboshaft|maglev|Compil/i.test(s)) return "V8 compiling (tier-up)";
  if (/Liftoff|^Builtins_Wasm|Wasm/.test(s)) return "wasm builtins and wrappers";
  if (s.startsWith("Builtins_")) return "JS builtins";
  if (/sqlite|^wal|^pcache|^pager|^unix|^btree|^vdbe/i.test(s)) return "SQLite";
  if (/tcmalloc|TCMalloc/.test(s)) return "malloc";
  if (/^kj::|capnp/.test(s)) return "kj / capnp (I/O, promises)";
  if (/^v8::internal::(Heap|Scavenge|MarkCompact|MinorGC)|GC/.test(s)) return "V8 GC";
  if (s.startsWith("v8::")) return "V8 runtime (handles, objects, calls)";
  if (s.startsWith("workerd::")) return "workerd API (Headers, Request, bindings)";
  if (/^0x|unknown/.test(s)) return "jit";
  return "other";
}

const per = (n, count) => (1000 * count) / Number(n);
const a = symbols(fa);
const b = fb ? symbols(fb) : null;
const cats = (m) => {
  const c = new Map();
  for (const [k, v] of m) c.set(category(k), (c.get(category(k)) ?? 0) + v);
  return c;
};
const ca = cats(a);
const cb = b ? cats(b) : new Map();
const total = (m) => [...m.values()].reduce((x, y) => x + y, 0);
console.log(`samples per 1,000 requests: ${per(na, total(a)).toFixed(0)}${b ? ` vs ${per(nb, total(b)).toFixed(0)}` : ""}`);
for (const [c, v] of [...ca].sort((x, y) => y[1] - x[1])) {
  console.log(`${per(na, v).toFixed(1).padStart(8)}${b ? per(nb, cb.get(c) ?? 0).toFixed(1).padStart(8) : ""}  ${c}`);
}
if (b) {
  console.log("\nsymbols that grew most (a vs b, samples per 1,000 requests):");
  const keys = new Set([...a.keys(), ...b.keys()]);
  const grew = [...keys].map((k) => [k, per(na, a.get(k) ?? 0) - per(nb, b.get(k) ?? 0)]).sort((x, y) => y[1] - x[1]);
  for (const [k, d] of grew.slice(0, 25)) {
    console.log(`${per(na, a.get(k) ?? 0).toFixed(1).padStart(8)}${per(nb, b.get(k) ?? 0).toFixed(1).padStart(8)}  ${k.slice(2, 140)}`);
  }
}
