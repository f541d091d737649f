/**
 * The CLIs the benchmarks run, as installed.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

/**
 * The `flex-sandbox` CLI of the installed `@flex/sandbox`: its package's `bin`, as npm links it (the
 * module itself is not an export of the package).
 */
export const sandboxBinPath = (): string => {
  const manifest = createRequire(import.meta.url).resolve("@flex/sandbox/package.json")
  const bin = (JSON.parse(readFileSync(manifest, "utf8")) as { bin: Record<string, string> }).bin["flex-sandbox"]!
  return Path.join(Path.dirname(manifest), bin)
}
