/**
 * Runs the built `flex-worker` CLI as a child process.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const bin = fileURLToPath(new URL("../../dist/bin.js", import.meta.url))
const root = fileURLToPath(new URL("../../", import.meta.url))

/** Builds the CLI (incremental: quick when turbo's `check` has built it already), so it is never stale. */
export const ensureBuilt = () => {
  execFileSync("npx", ["tsc", "-b", "tsconfig.src.json"], { cwd: root, stdio: "inherit" })
}

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export const start = (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>
): {
  readonly child: ChildProcess
  readonly done: Promise<Result>
  readonly output: () => { stdout: string; stderr: string }
} => {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, FLEX_WORKER_LOG_LEVEL: "error", ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (d) => {
    stdout += d
  })
  child.stderr!.on("data", (d) => {
    stderr += d
  })
  const done = new Promise<Result>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, done, output: () => ({ stdout, stderr }) }
}

export const run = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): Promise<Result> =>
  start(args, env).done
