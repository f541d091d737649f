// `pnpm --filter @flex/worker pack:cli`: the `flex-worker` CLI as a package of its own, installable with
// plain npm on a machine with only Node.js (no pnpm, no repository). One esbuild bundle of src/bin.ts
// (ESM, split at the commands' dynamic imports so each command still loads only what it needs) with
// every dependency inside it but `better-sqlite3`, which is native: it stays a real dependency, and npm
// installs its prebuilt binary where one exists for the platform and Node.js version, or compiles it
// (Python 3, make and a C++ compiler) where none does.
//
// Writes apps/worker/.pack/ (the package) and prints the path of the tarball `npm pack` made of it.
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"

const app = fileURLToPath(new URL("..", import.meta.url))
const out = Path.join(app, ".pack")
const manifest = JSON.parse(Fs.readFileSync(Path.join(app, "package.json"), "utf8"))

Fs.rmSync(out, { recursive: true, force: true })
await esbuild.build({
  entryPoints: [Path.join(app, "src/bin.ts")],
  outdir: Path.join(out, "dist"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  // Native (better-sqlite3), optional and never used (pg-native), or not installed here (the optional
  // pretty-printers some libraries probe for).
  external: ["better-sqlite3", "pg-native"],
  // CommonJS dependencies inside an ESM bundle call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __flexRequire } from "node:module"; const require = __flexRequire(import.meta.url);'
  },
  legalComments: "linked",
  logLevel: "warning"
})
const bin = Path.join(out, "dist/bin.js")
Fs.writeFileSync(bin, Fs.readFileSync(bin, "utf8").replace(/^#!.*\n/, ""))
Fs.writeFileSync(bin, `#!/usr/bin/env node\n${Fs.readFileSync(bin, "utf8")}`)
Fs.chmodSync(bin, 0o755)

const pkg = {
  name: "flex-worker",
  version: manifest.version,
  description: manifest.description,
  type: "module",
  license: "MIT",
  engines: manifest.engines,
  bin: { "flex-worker": "./dist/bin.js" },
  files: ["dist"],
  dependencies: { "better-sqlite3": manifest.dependencies["better-sqlite3"] }
}
Fs.writeFileSync(Path.join(out, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`)
Fs.writeFileSync(
  Path.join(out, "README.md"),
  "# flex-worker\n\nCancels Flex payment intents durably. `flex-worker --help`; the documentation is the flex-ts repository's README.\n"
)
const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: out, encoding: "utf8" })
  .trim()
  .split("\n")
  .pop()
console.log(Path.join(out, tarball))
