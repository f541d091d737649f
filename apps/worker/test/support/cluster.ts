/**
 * A private PostgreSQL server for the chaos suite, so it can be stopped and started again mid-batch
 * without touching the server other tests share: `initdb` in a temp directory, `pg_ctl` on a free port
 * (as the `postgres` user when the suite runs as root). Its binaries are found with `pg_config` or
 * under /usr/lib/postgresql; `available()` says why not when they are missing.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { Effect } from "effect"
import pg from "pg"
import { freePort } from "./pg.js"

const binDir = (): string | undefined => {
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim()
    if (existsSync(Path.join(dir, "initdb"))) return dir
  } catch {}
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const dir = Path.join(root, v, "bin")
    if (existsSync(Path.join(dir, "initdb")) && existsSync(Path.join(dir, "pg_ctl"))) return dir
  }
  return undefined
}

const postgresUid = (): { uid: number; gid: number } | undefined => {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    return { uid, gid }
  } catch {
    return undefined
  }
}

const isRoot = () => process.getuid?.() === 0

/** Why a private server cannot run here, or undefined when it can. */
export const unavailable = (): string | undefined => {
  if (binDir() === undefined) return "no PostgreSQL server binaries (initdb, pg_ctl) found"
  if (isRoot() && postgresUid() === undefined) return "running as root, and there is no postgres user to run the server"
  return undefined
}

export interface Server {
  readonly url: string
  /** The server's directory (data files, socket, log): scanned for secrets too. */
  readonly dir: string
  readonly port: number
  /** `pg_ctl stop` in the given mode (`immediate` is a crash: no checkpoint, recovery at the next start). */
  readonly stop: (mode: "fast" | "immediate") => Effect.Effect<void>
  readonly start: Effect.Effect<void>
  readonly log: () => string
}

export const start = Effect.acquireRelease(
  Effect.gen(function* () {
    const bin = binDir()!
    const dir = mkdtempSync(Path.join(tmpdir(), "flex-chaos-pg-"))
    const data = Path.join(dir, "data")
    const socket = Path.join(dir, "sock")
    const logFile = Path.join(dir, "server.log")
    const owner = isRoot() ? postgresUid() : undefined
    if (owner !== undefined) {
      chmodSync(dir, 0o755)
      chownSync(dir, owner.uid, owner.gid)
    }
    const run = (cmd: string, args: ReadonlyArray<string>) =>
      owner === undefined
        ? execFileSync(Path.join(bin, cmd), args, { stdio: "pipe", encoding: "utf8" })
        : execFileSync("runuser", ["-u", "postgres", "--", Path.join(bin, cmd), ...args], {
            stdio: "pipe",
            encoding: "utf8"
          })
    run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
    execFileSync(
      owner === undefined ? "mkdir" : "runuser",
      owner === undefined ? [socket] : ["-u", "postgres", "--", "mkdir", socket]
    )
    const port = yield* freePort
    const options = `-p ${port} -k ${socket} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`
    const startServer = Effect.sync(() => {
      run("pg_ctl", ["-D", data, "-o", options, "-l", logFile, "-w", "-t", "60", "start"])
    })
    yield* startServer
    const server: Server & { dir: string; data: string; run: typeof run } = {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      stop: (mode) =>
        Effect.sync(() => {
          run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"])
        }),
      start: startServer,
      log: () => {
        try {
          return readFileSync(logFile, "utf8")
        } catch {
          return ""
        }
      },
      dir,
      data,
      run
    }
    return server
  }),
  (server) =>
    Effect.sync(() => {
      try {
        server.run("pg_ctl", ["-D", server.data, "-m", "immediate", "-w", "stop"])
      } catch {}
      rmSync(server.dir, { recursive: true, force: true })
    })
)

/** Runs a query; fails (as a defect) when the server is down. */
export const query = <R extends pg.QueryResultRow = any>(url: string, text: string, values: Array<unknown> = []) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
    await client.connect()
    try {
      return (await client.query<R>(text, values)).rows
    } finally {
      await client.end()
    }
  })
