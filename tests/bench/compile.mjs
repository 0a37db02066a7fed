// Compile + instantiate time of the worker's wasm module in V8, the proxy for a Worker's cold
// start. Runs in headless Chromium (a current V8: the module uses Wasm exception handling with
// exnref, which the machine's Node.js 20 cannot compile). Usage: node compile.mjs FILE [RUNS].
// Prints JSON: {"compile_ms": median, "instantiate_ms": median, "runs": n, "v8": version}.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const bytes = readFileSync(process.argv[2]);
const runs = Number(process.argv[3] || 15);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless=new"],
});
try {
  const page = await browser.newPage();
  const result = await page.evaluate(
    async ({ b64, runs }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const compile = [];
      const instantiate = [];
      for (let i = 0; i < runs; i++) {
        // A fresh copy each time so V8 cannot reuse a cached compilation of the same buffer.
        const copy = bytes.slice();
        const t0 = performance.now();
        const module = await WebAssembly.compile(copy);
        const t1 = performance.now();
        const imports = {};
        for (const imp of WebAssembly.Module.imports(module)) {
          imports[imp.module] ??= {};
          imports[imp.module][imp.name] =
            imp.kind === "function" ? () => 0
            : imp.kind === "memory" ? new WebAssembly.Memory({ initial: 17 })
            : imp.kind === "table" ? new WebAssembly.Table({ initial: 128, element: "externref" })
            : imp.kind === "tag" ? new WebAssembly.Tag({ parameters: ["externref"] })
            : new WebAssembly.Global({ value: "i32", mutable: true }, 0);
        }
        await WebAssembly.instantiate(module, imports);
        const t2 = performance.now();
        compile.push(t1 - t0);
        instantiate.push(t2 - t1);
      }
      return { compile_ms: median(compile), instantiate_ms: median(instantiate), runs };
    },
    { b64: bytes.toString("base64"), runs },
  );
  result.v8 = `Chromium ${browser.version()}`;
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
