// `pnpm lint` of one library, run in its directory after its build: publint in strict mode, then
// @arethetypeswrong/cli on the packed tarball in its default (strict) profile, which resolves every
// entry point as node10, node16 from CommonJS, node16 from ESM and a bundler would.
//
// attw does not expand the `./*` pattern of `exports`, so every public module (src/*.ts but index and
// bin) is named as an entry point of its own: a module that resolves wrongly in any mode fails the lint.
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"

const modules = Fs.readdirSync("src")
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
  .map((file) => file.slice(0, -3))
  .filter((name) => name !== "index" && name !== "bin")
  .sort()

const run = (command, args) => {
  try {
    execFileSync(command, args, { stdio: "inherit" })
  } catch (error) {
    // The tool has printed its findings; its exit code is the lint's.
    process.exit(typeof error.status === "number" && error.status !== 0 ? error.status : 1)
  }
}

run("publint", ["--strict"])
run("attw", ["--pack", ".", "--format", "table-flipped", "--include-entrypoints", ...modules.map((m) => `./${m}`)])
