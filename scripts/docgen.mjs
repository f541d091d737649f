// `pnpm docs` of one library (run in its directory): the API reference, Markdown per module in docs/,
// generated from the JSDoc by @effect/docgen, the generator Effect itself uses. It reads the same tags our
// sources carry (`@since` on every export, `@category`, `@example`) and fails on an export without a
// description or a `@since`, so the reference has no gaps.
//
// Two things differ from a bare `docgen`:
//  - docgen 0.5.2 hands `process.argv.slice(2)` to @effect/cli, which drops two more words, so its flags
//    only arrive behind two placeholders;
//  - `--no-run-examples`: docgen would run every example, and ours declare their inputs
//    (`declare const body: string`) or call the real API. The examples are type-checked, and the ones
//    against the sandbox run, by scripts/check-docs.mjs in `pnpm test`.
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"

const bin = createRequire(import.meta.url).resolve("@effect/docgen/bin.cjs")
const result = spawnSync(process.execPath, [bin, "node", "docgen", "--no-run-examples"], { stdio: "inherit" })
process.exit(result.status ?? 1)
