/**
 * Every child process the tests start goes through here: the built `flex-worker` and `flex-sandbox`
 * CLIs, the demo script, and small `node -e` programs (a process holding the SQLite store's lock).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

/** The repository's root. */
export const root = fileURLToPath(new URL("../../../../", import.meta.url))

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  readonly child: ChildProcess
  readonly done: Promise<Result>
  /** What it printed so far. */
  readonly output: () => { stdout: string; stderr: string }
}

export interface Options {
  /** The whole environment of the child (nothing is inherited but PATH). */
  readonly env?: Record<string, string | undefined> | undefined
  readonly cwd?: string | undefined
  /** SIGKILL after this long. */
  readonly timeoutMs?: number | undefined
}

/** `node ARGS…` with its output collected. */
export const node = (args: ReadonlyArray<string>, options: Options = {}): Running => {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, ...options.env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd })
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (d) => {
    stdout += d
  })
  child.stderr!.on("data", (d) => {
    stderr += d
  })
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
  const done = new Promise<Result>((resolve) => {
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, done, output: () => ({ stdout, stderr }) }
}

/** `node ARGS…` to its end, as an Effect (killed if the fiber is interrupted). */
export const run = (args: ReadonlyArray<string>, options: Options = {}): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const running = node(args, options)
    running.done.then((result) => resume(Effect.succeed(result)))
    return Effect.sync(() => running.child.kill("SIGKILL"))
  })

const betterSqlite = createRequire(import.meta.url).resolve("better-sqlite3")

export interface Lock {
  /** When the holder took the lock, by its own clock (a stalled event loop here cannot skew it). */
  readonly lockedAt: number
  /** When it gave the lock back (by its clock), once it has and is gone. */
  readonly released: Promise<number>
  readonly child: ChildProcess
}

/**
 * Another process (think: a backup tool, or `sqlite3` left open in a transaction) takes an exclusive
 * lock on the SQLite file and holds it for `ms`. Succeeds once the lock is held.
 */
export const lockSqlite = (file: string, ms: number): Effect.Effect<Lock, Error> =>
  Effect.async<Lock, Error>((resume) => {
    const script = `
      const db = new (require(${JSON.stringify(betterSqlite)}))(${JSON.stringify(file)}, { timeout: 30000 })
      db.exec("BEGIN EXCLUSIVE")
      process.stdout.write("locked " + Date.now() + "\\n")
      setTimeout(() => { db.exec("COMMIT"); db.close(); process.stdout.write("released " + Date.now() + "\\n"); process.exit(0) }, ${ms})
    `
    const holder = node(["-e", script])
    const released = holder.done.then((r) => Number(/released (\d+)/.exec(r.stdout)?.[1] ?? Date.now()))
    let resumed = false
    holder.child.stdout!.on("data", () => {
      const locked = /locked (\d+)/.exec(holder.output().stdout)
      if (locked !== null && !resumed) {
        resumed = true
        resume(Effect.succeed({ lockedAt: Number(locked[1]), released, child: holder.child }))
      }
    })
    holder.done.then((r) => {
      if (!resumed) resume(Effect.fail(new Error(`the lock holder exited ${r.code}: ${r.stderr}`)))
    })
  })
