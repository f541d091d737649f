/**
 * Cases 3 to 5: the worker (`flex-worker`, run from its built CLI as a child process, exactly as a user
 * runs it) against `flex-sandbox` (its own process too). Every rate is read from the sandbox's call log,
 * from the first to the last cancel call, so the worker's start-up and shutdown do not count.
 *
 * - rate limit: the sandbox limits to 100 req/s and answers after 20 ms; the worker runs at `--rate 100`;
 * - ceiling: no limit, no latency, `--rate 0`: embedded SQLite (`cancel --file`), and PostgreSQL with
 *   1 and 3 runners (`serve`, requests submitted over its HTTP API) when a server is reachable;
 * - memory: `cancel --file` with many IDs against the fast sandbox: the worker's peak RSS.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { sandboxBinPath } from "./bins.js"
import { spawnListening, stop } from "./child.js"
import { type Usage, watch } from "./proc.js"

/** The built CLI; `FLEX_BENCH_WORKER_BIN` points the worker cases at another build (to compare a change). */
export const workerBin =
  process.env.FLEX_BENCH_WORKER_BIN ?? fileURLToPath(new URL("../../apps/worker/dist/bin.js", import.meta.url))
/**
 * The Node.js flags the CLI runs with when started as a program (`flex-worker`, `pnpm flex-worker`):
 * those of its `#!/usr/bin/env -S node …` line, so the bench runs it exactly as users do.
 */
export const workerNodeFlags: ReadonlyArray<string> = (() => {
  const first = readFileSync(workerBin, "utf8").split("\n", 1)[0] ?? ""
  const shebang = /^#!\/usr\/bin\/env -S node (.*)$/.exec(first)
  return shebang === null ? [] : shebang[1]!.trim().split(/\s+/)
})()
const sandboxBin = sandboxBinPath()
const apiKey = "fsk_test_bench"
const apiToken = "bench-token-0123456789abcdef"

interface Call {
  readonly at: string
  readonly method: string
  readonly path: string
  readonly status: number | null
}

export interface SandboxProcess {
  readonly child: ChildProcess
  readonly url: URL
}

export const startSandbox = (args: ReadonlyArray<string> = []) =>
  spawnListening([sandboxBin, "--port", "0", "--intents", "0", ...args], "flex-sandbox")

const admin = async (sandbox: SandboxProcess, method: string, path: string, body?: unknown): Promise<any> => {
  const res = await fetch(new URL(path, sandbox.url), {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  if (!res.ok) throw new Error(`sandbox ${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`)
  return res.json()
}

/** Creates `count` cancelable (`requires_capture`) intents; returns their IDs. */
export const createIntents = async (sandbox: SandboxProcess, count: number): Promise<Array<string>> => {
  const ids: Array<string> = []
  while (ids.length < count) {
    const batch = Math.min(5000, count - ids.length)
    const created = await admin(sandbox, "POST", "/_sandbox/payment_intents", {
      payment_intents: Array.from({ length: batch }, () => ({ status: "requires_capture" }))
    })
    for (const intent of created.payment_intents as Array<{ payment_intent_id: string }>) {
      ids.push(intent.payment_intent_id)
    }
  }
  return ids
}

const calls = async (sandbox: SandboxProcess): Promise<ReadonlyArray<Call>> =>
  (await admin(sandbox, "GET", "/_sandbox/calls")).calls

export interface CallFigures {
  /** Every API call the sandbox saw. */
  readonly calls: number
  /** Cancel calls answered 200. */
  readonly canceled: number
  readonly http429: number
  /** Successful cancels per second, first to last. */
  readonly cps: number
  readonly seconds: number
}

const callFigures = (log: ReadonlyArray<Call>): CallFigures => {
  const canceled = log.filter((call) => call.method === "POST" && call.path.endsWith("/cancel") && call.status === 200)
  const times = canceled.map((call) => Date.parse(call.at))
  const seconds = times.length < 2 ? Number.NaN : (Math.max(...times) - Math.min(...times)) / 1000
  return {
    calls: log.length,
    canceled: canceled.length,
    http429: log.filter((call) => call.status === 429).length,
    cps: (canceled.length - 1) / seconds,
    seconds
  }
}

export interface CancelRun {
  readonly report: {
    readonly total: number
    readonly outcomes: Record<string, number>
    readonly api_calls: number
  }
  readonly usage: Usage
  readonly wallSeconds: number
  /** SQL statements the worker ran on SQLite, start-up included. */
  readonly statements: number
}

/** The SQLite engines of `flex-worker` (FLEX_WORKER_ENGINE): the embedded one is the default. */
export type Engine = "embedded" | "cluster"

/** Preloaded into the worker to count its SQL statements (`count-statements.cjs`). */
const statementCounter = fileURLToPath(new URL("./count-statements.cjs", import.meta.url))
const workerPackage = fileURLToPath(new URL("../../apps/worker/package.json", import.meta.url))

/** `flex-worker cancel --file … --json` on a fresh store; fails unless every request was canceled. */
const runCancel = async (
  sandbox: SandboxProcess,
  ids: ReadonlyArray<string>,
  dir: string,
  options: { readonly rate: number; readonly concurrency: number; readonly engine?: Engine }
): Promise<CancelRun> => {
  const file = Path.join(dir, `ids-${ids.length}.txt`)
  writeFileSync(file, `${ids.join("\n")}\n`)
  const store = Path.join(dir, `worker-${Date.now()}.sqlite`)
  const statementsFile = Path.join(dir, `statements-${Date.now()}.txt`)
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      ...workerNodeFlags,
      "--require",
      statementCounter,
      workerBin,
      "cancel",
      "--file",
      file,
      "--store",
      store,
      "--rate",
      String(options.rate),
      "--concurrency",
      String(options.concurrency),
      "--json"
    ],
    {
      env: {
        ...process.env,
        FLEX_API_KEY: apiKey,
        FLEX_BASE_URL: sandbox.url.origin,
        FLEX_WORKER_ENGINE: options.engine ?? "embedded",
        FLEX_BENCH_SQLITE_FROM: workerPackage,
        FLEX_BENCH_STATEMENTS_FILE: statementsFile
      },
      stdio: ["ignore", "pipe", "inherit"]
    }
  )
  const usage = watch(child.pid!)
  let out = ""
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
  const figures = usage.stop()
  if (code !== 0) throw new Error(`flex-worker cancel exited with ${code}: ${out.slice(0, 300)}`)
  const report = JSON.parse(out) as CancelRun["report"]
  if (report.outcomes.canceled !== ids.length) {
    throw new Error(`flex-worker canceled ${report.outcomes.canceled} of ${ids.length}: ${out.slice(0, 300)}`)
  }
  const statements = Number(readFileSync(statementsFile, "utf8"))
  return { report, usage: figures, wallSeconds: (performance.now() - started) / 1000, statements }
}

const withTempDir = async <A>(f: (dir: string) => Promise<A>): Promise<A> => {
  const dir = mkdtempSync(Path.join(tmpdir(), "flex-bench-"))
  try {
    return await f(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface RateLimitResult {
  readonly limit_rps: number
  readonly intents: number
  readonly achieved_cps: number
  readonly calls_per_cancel: number
  readonly http_429: number
}

/** Case 3: `--rate-limit 100` and a fixed 20 ms latency at the sandbox; the worker at `--rate 100`. */
export const runRateLimitBench = (intents: number, limit = 100): Promise<RateLimitResult> =>
  withTempDir(async (dir) => {
    const profile = Path.join(dir, "latency.json")
    writeFileSync(profile, JSON.stringify({ default: { latency: { min_ms: 20, max_ms: 20 } } }))
    const sandbox = await startSandbox(["--rate-limit", String(limit), "--faults", profile])
    try {
      const ids = await createIntents(sandbox, intents)
      // Let the token bucket fill again after the admin calls (they are not limited, but be safe).
      await new Promise((resolve) => setTimeout(resolve, 1100))
      await runCancel(sandbox, ids, dir, { rate: limit, concurrency: 16 })
      const figures = callFigures(await calls(sandbox))
      return {
        limit_rps: limit,
        intents,
        achieved_cps: figures.cps,
        calls_per_cancel: figures.calls / figures.canceled,
        http_429: figures.http429
      }
    } finally {
      await stop(sandbox.child)
    }
  })

export interface CeilingResult {
  readonly engine: Engine
  readonly intents: number
  readonly cps: number
  /** The worker's CPU time per cancellation, ms, start-up included. */
  readonly cpuMsPerCancel: number | null
  /** The same without start-up: less the CPU of a run of one intent on a fresh store. */
  readonly cpuMsPerCancelSteady: number | null
  /** SQL statements per cancellation, less those of a run of one intent. */
  readonly statementsPerCancel: number
  readonly peakRssMb: number | null
  readonly wallSeconds: number
}

/**
 * Case 4 (embedded) and case 5: no limit, no latency, `--rate 0`, on `engine`. A run of one intent
 * before it gives the start-up's CPU and statements, taken off the per-cancellation figures.
 */
export const runSqliteCeilingBench = (
  intents: number,
  engine: Engine = "embedded",
  concurrency = 16
): Promise<CeilingResult> =>
  withTempDir(async (dir) => {
    const sandbox = await startSandbox()
    try {
      const one = await runCancel(sandbox, await createIntents(sandbox, 1), dir, { rate: 0, concurrency, engine })
      const ids = await createIntents(sandbox, intents)
      const before = (await calls(sandbox)).length
      const run = await runCancel(sandbox, ids, dir, { rate: 0, concurrency, engine })
      const figures = callFigures((await calls(sandbox)).slice(before))
      const cpu = run.usage.cpuSeconds
      const startup = one.usage.cpuSeconds
      return {
        engine,
        intents,
        cps: figures.cps,
        cpuMsPerCancel: cpu === null ? null : (cpu * 1000) / intents,
        cpuMsPerCancelSteady:
          cpu === null || startup === null ? null : ((cpu - startup) * 1000) / Math.max(1, intents - 1),
        statementsPerCancel: (run.statements - one.statements) / Math.max(1, intents - 1),
        peakRssMb: run.usage.peakRssMb,
        wallSeconds: run.wallSeconds
      }
    } finally {
      await stop(sandbox.child)
    }
  })

// ---------------------------------------------------------------------------------------------------
// PostgreSQL (cluster mode)

export type PgCeiling =
  | {
      readonly cps: number
      readonly intents: number
      /** SIGTERM to exit of each runner once the work is done (nothing in flight), ms, in the order stopped: the last one stopped alone. */
      readonly stopMs: ReadonlyArray<number>
    }
  | { readonly skipped: string }

/** The PostgreSQL server to use, if any: FLEX_BENCH_DATABASE_URL, FLEX_TEST_DATABASE_URL, or a local one. */
export const findPostgres = async (): Promise<{ readonly url: string } | { readonly skipped: string }> => {
  const given = process.env.FLEX_BENCH_DATABASE_URL ?? process.env.FLEX_TEST_DATABASE_URL
  const candidate = given ?? "postgres://postgres@127.0.0.1:5432/postgres"
  const client = new pg.Client({ connectionString: candidate, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query("SELECT 1")
    return { url: candidate }
  } catch (error) {
    return {
      skipped: `no PostgreSQL reachable at ${given === undefined ? "127.0.0.1:5432" : "FLEX_BENCH_DATABASE_URL/FLEX_TEST_DATABASE_URL"} (${(error as Error).message}); set FLEX_BENCH_DATABASE_URL`
    }
  } finally {
    await client.end().catch(() => {})
  }
}

export const clusterModeAvailable = (): Promise<boolean> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [workerBin, "serve", "--help"], { stdio: ["ignore", "pipe", "ignore"] })
    let out = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk
    })
    child.on("error", () => resolve(false))
    child.on("exit", (code) => resolve(code === 0 && out.includes("--runner-address")))
  })

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const withDatabase = async <A>(serverUrl: string, f: (url: string) => Promise<A>): Promise<A> => {
  const name = `flex_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const adminQuery = async (text: string) => {
    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    try {
      await client.query(text)
    } finally {
      await client.end()
    }
  }
  await adminQuery(`CREATE DATABASE ${name}`)
  try {
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    return await f(url.toString())
  } finally {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
  }
}

const outcomesDone = async (apis: ReadonlyArray<URL>): Promise<number> => {
  let total = 0
  for (const api of apis) {
    const text = await (await fetch(new URL("/metrics", api))).text()
    for (const match of text.matchAll(/^flex_worker_outcomes_total\{[^}]*\} (\d+(?:\.\d+)?)/gm)) {
      total += Number(match[1])
    }
  }
  return total
}

/** SIGTERM to exit, ms; a process still running after 30 s is killed and the case fails. */
const timedStop = (child: ChildProcess): Promise<number> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("a runner was still running 30 s after SIGTERM"))
    }, 30_000)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      const ms = performance.now() - started
      code === 143 || signal === "SIGTERM" ? resolve(ms) : reject(new Error(`a runner stopped with ${code ?? signal}`))
    })
    child.kill("SIGTERM")
  })

/** Case 4 on PostgreSQL: `runners` × `flex-worker serve`, requests submitted over the HTTP API. */
export const runPgCeilingBench = (serverUrl: string, runners: number, intents: number): Promise<PgCeiling> =>
  withDatabase(serverUrl, async (databaseUrl) => {
    const sandbox = await startSandbox()
    const started: Array<ChildProcess> = []
    try {
      const ids = await createIntents(sandbox, intents)
      const apis: Array<URL> = []
      for (let i = 0; i < runners; i++) {
        const port = await freePort()
        const runner = await spawnListening(
          [
            ...workerNodeFlags,
            workerBin,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            databaseUrl,
            "--runner-address",
            `127.0.0.1:${port}`,
            "--rate",
            "0"
          ],
          `flex-worker serve #${i + 1}`,
          { FLEX_API_KEY: apiKey, FLEX_BASE_URL: sandbox.url.origin, FLEX_WORKER_API_TOKEN: apiToken }
        )
        started.push(runner.child)
        apis.push(runner.url)
      }
      // Batches of 1,000, spread over the runners as a load balancer would.
      for (let i = 0; i * 1000 < ids.length; i++) {
        const batch = ids.slice(i * 1000, (i + 1) * 1000)
        const res = await fetch(new URL("/cancellations", apis[i % apis.length]), {
          method: "POST",
          headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
          body: JSON.stringify({ cancellations: batch.map((id) => ({ payment_intent_id: id })) })
        })
        if (res.status !== 202) throw new Error(`POST /cancellations answered ${res.status}: ${await res.text()}`)
      }
      const deadline = Date.now() + Math.max(120_000, intents * 100)
      while ((await outcomesDone(apis)) < intents) {
        if (Date.now() > deadline) throw new Error(`the cluster did not finish ${intents} cancellations in time`)
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      const figures = callFigures(await calls(sandbox))
      if (figures.canceled !== intents) throw new Error(`the cluster canceled ${figures.canceled} of ${intents}`)
      // Then each runner is stopped, nothing in flight: beside the others, and the last one alone.
      const stopMs: Array<number> = []
      while (started.length > 0) stopMs.push(await timedStop(started.pop()!))
      return { cps: figures.cps, intents, stopMs }
    } finally {
      for (const child of started) await stop(child)
      await stop(sandbox.child)
    }
  })
