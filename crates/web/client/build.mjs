// Bundles the browser client into crates/web/static (committed, so `cargo run` needs no Node).
//   node build.mjs            writes the bundles
//   node build.mjs --check    fails when the committed bundles differ from what the sources give
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static");
const entries = {
  room: "src/room-page.js",
  app: "src/app-page.js",
  history: "src/history-page.js",
  sw: "src/service-worker.js",
};
const check = process.argv.includes("--check");

const result = await build({
  absWorkingDir: here,
  entryPoints: entries,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  legalComments: "eof",
  outdir: out,
  write: !check,
  metafile: true,
  logLevel: "warning",
});

let stale = false;
for (const file of result.outputFiles ?? []) {
  let committed = "";
  try {
    committed = readFileSync(file.path, "utf8");
  } catch {}
  if (committed !== file.text) {
    console.error(`${file.path} is not what the sources build to: run \`npm run build\` in crates/web/client`);
    stale = true;
  }
}
for (const [path, output] of Object.entries(result.metafile.outputs)) {
  console.log(`${path}: ${(output.bytes / 1024).toFixed(1)} KiB`);
}
if (stale) process.exit(1);
