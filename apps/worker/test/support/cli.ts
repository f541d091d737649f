/**
 * Runs the built `flex-worker` CLI as a child process (through {@link Process.node}).
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Process from "./process.js"

export const bin = fileURLToPath(new URL("../../dist/bin.js", import.meta.url))
const app = fileURLToPath(new URL("../../", import.meta.url))

/** Builds the CLI (incremental: quick when turbo's `check` has built it already), so it is never stale. */
export const ensureBuilt = () => {
  execFileSync("npx", ["tsc", "-b", "tsconfig.src.json"], { cwd: app, stdio: "inherit" })
}

export type Result = Process.Result

export const start = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): Process.Running =>
  Process.node([bin, ...args], { env: { FLEX_WORKER_LOG_LEVEL: "error", ...env } })

export const run = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): Promise<Result> =>
  start(args, env).done
