// Compile + instantiate time of a wasm module in V8 (Node), the proxy for a Worker's cold start.
// Prints JSON: {"compile_ms": median, "instantiate_ms": median, "runs": n}.
import { readFileSync } from "node:fs";

const bytes = readFileSync(process.argv[2]);
const runs = Number(process.argv[3] || 15);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const compile = [];
const instantiate = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t1 = performance.now();
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] =
      imp.kind === "function" ? () => 0
      : imp.kind === "memory" ? new WebAssembly.Memory({ initial: 17 })
      : imp.kind === "table" ? new WebAssembly.Table({ initial: 128, element: "externref" })
      : new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  }
  await WebAssembly.instantiate(module, imports);
  const t2 = performance.now();
  compile.push(t1 - t0);
  instantiate.push(t2 - t1);
}
console.log(JSON.stringify({ compile_ms: median(compile), instantiate_ms: median(instantiate), runs }));
