// The `flex-worker` program as one esbuild bundle of src/bin.ts: what `dist/bin.js` is after `pnpm build`
// (the repository's `pnpm flex-worker`, the tests and the benchmark run it) and what the packed CLI ships
// (scripts/pack.mjs). ESM, split at the dynamic imports, so `--help` loads one small file and each command
// only its own chunks. A program resolving one file per chunk starts in about half the time of the same
// program resolving ~700 modules across node_modules (BENCHMARKS.md, "The CLI's start-up").
//
// Every dependency is inside it but `better-sqlite3`, which is native (resolved from the package's own
// node_modules at run time), and `pg-native` (optional, never used). The library modules of dist/ (tsc's
// output: Worker.js, cli/*, …) stay as they are, for the tests that import them.
//
// `node scripts/bundle.mjs [OUTDIR]` (default: dist). The worker's `test` and `test:chaos` bundle first: `check` (tsc -b)
// re-emits `dist/bin.js` as a plain module whenever a source changed, and the tests run what ships.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"

const app = fileURLToPath(new URL("..", import.meta.url))

export const bundle = async (outdir) => {
  Fs.rmSync(Path.join(outdir, "chunks"), { recursive: true, force: true })
  await esbuild.build({
    entryPoints: [Path.join(app, "src/bin.ts")],
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunks/[name]-[hash]",
    external: ["better-sqlite3", "pg-native"],
    // CommonJS dependencies inside an ESM bundle call require() for Node's own modules.
    banner: {
      js: 'import { createRequire as __flexRequire } from "node:module"; const require = __flexRequire(import.meta.url);'
    },
    legalComments: "linked",
    logLevel: "warning"
  })
  const bin = Path.join(outdir, "bin.js")
  const text = Fs.readFileSync(bin, "utf8").replace(/^#!.*\n/, "")
  Fs.writeFileSync(bin, `#!/usr/bin/env node\n${text}`)
  Fs.chmodSync(bin, 0o755)
  return bin
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle(Path.resolve(app, process.argv[2] ?? "dist"))
}
