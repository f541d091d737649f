// `pnpm --filter @flex/worker pack:cli`: the `flex-worker` CLI as a package of its own, installable with
// plain npm on a machine with only Node.js (no pnpm, no repository): the bundle of scripts/bundle.mjs
// (the same program as `dist/bin.js`), with `better-sqlite3`, which is native, as its one dependency: npm
// installs its prebuilt binary where one exists for the platform and Node.js version, or compiles it
// (Python 3, make and a C++ compiler) where none does.
//
// Writes apps/worker/.pack/ (the package) and prints the path of the tarball `npm pack` made of it.
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { bundle } from "./bundle.mjs"

const app = fileURLToPath(new URL("..", import.meta.url))
const out = Path.join(app, ".pack")
const manifest = JSON.parse(Fs.readFileSync(Path.join(app, "package.json"), "utf8"))

Fs.rmSync(out, { recursive: true, force: true })
await bundle(Path.join(out, "dist"))

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
