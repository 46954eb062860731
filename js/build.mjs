// Bundle the widget front end into the Python package (trellis_jupyter/static/).
// Usage: node build.mjs [--dev]   (--dev: no minification, inline source map)
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "trellis_jupyter", "static");
const dev = process.argv.includes("--dev");
mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: [join(here, "src", "widget.ts")],
  outfile: join(outdir, "widget.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: !dev,
  sourcemap: dev ? "inline" : false,
  legalComments: "none",
  logLevel: "warning",
});
await build({
  entryPoints: [join(here, "src", "widget.css")],
  outfile: join(outdir, "widget.css"),
  bundle: true,
  minify: !dev,
  logLevel: "warning",
});

for (const name of ["widget.js", "widget.css"]) {
  const kb = statSync(join(outdir, name)).size / 1024;
  console.log(`trellis_jupyter/static/${name}: ${kb.toFixed(0)} KiB`);
}
