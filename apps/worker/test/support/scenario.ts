/**
 * The chaos suite's driver: a sandbox with a realistic mix of intents, the built `flex-worker` CLI as a
 * real child process (so kill -9 is a real kill), the nemesis (kill -9 / SIGTERM at seeded random
 * moments, fault storms switched on and off), the invariant checker, the secrets scan and one summary
 * line per scenario.
 *
 * Every scenario runs with the canary API key: the sandbox accepts only it, the worker gets it in
 * FLEX_API_KEY, and every stdout, stderr, log file and store file of the scenario is scanned for it.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import type { FaultProfile, Sandbox } from "@flex/sandbox"
import { Effect, Fiber } from "effect"
import * as Cli from "./cli.js"
import * as Invariants from "./invariants.js"
import * as Process from "./process.js"

/** The canary: a key that must never appear in any output, log, store or error. */
export const canarySecret = "c4n4ryQ7Zx9wP2"
export const CANARY_KEY = `fsk_test_CANARY_${canarySecret}`
/** The canary bearer token of `flex-worker serve`'s HTTP API (FLEX_WORKER_API_TOKEN). */
export const tokenSecret = "t0kenK8vR3qL6mY1"
export const CANARY_TOKEN = `tok_CANARY_${tokenSecret}`

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points and mixes. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p
  }
}
export type Prng = ReturnType<typeof prng>

export interface Mix {
  readonly specs: ReadonlyArray<Sandbox.IntentSpec>
}

/**
 * A realistic batch: mostly authorizations to release, some intents waiting for a payment method or an
 * action, some already canceled, some succeeded (refund instead), a few processing.
 */
export const intentMix = (n: number, rng: Prng, options: { processing?: number } = {}): Array<Sandbox.IntentSpec> =>
  Array.from({ length: n }, (_, i): Sandbox.IntentSpec => {
    const r = rng.next()
    const amount = 500 + rng.int(0, 99_500)
    if (r < (options.processing ?? 0.01)) return { status: "processing", amount }
    if (r < 0.7) return { status: "requires_capture", amount, capture_method: "manual" }
    if (r < 0.78) return { status: "requires_payment_method", amount }
    if (r < 0.82) return { status: i % 2 === 0 ? "requires_confirmation" : "requires_action", amount }
    if (r < 0.92) return { status: "canceled", amount }
    return { status: "succeeded", amount }
  })

/** IDs Flex does not know (valid ULIDs): NotFound. */
export const unknownIds = (n: number, rng: Prng) => {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
  return Array.from(
    { length: n },
    () => `fpi_01JZ${Array.from({ length: 22 }, () => alphabet[rng.int(0, 31)]).join("")}`
  )
}

export interface Work {
  readonly dir: string
  readonly store: string
  readonly logs: string
}

export const workDir = (name: string): Work => {
  const dir = mkdtempSync(Path.join(tmpdir(), `flex-chaos-${name}-`))
  const logs = Path.join(dir, "logs")
  mkdirSync(logs)
  return { dir, store: Path.join(dir, "store", "worker.sqlite"), logs }
}

/** The worker's environment for a scenario: the canary key, short timeouts and backoffs. */
export const workerEnv = (sandbox: Sandbox.SandboxHandle, extra: Record<string, string> = {}) => ({
  FLEX_API_KEY: CANARY_KEY,
  FLEX_BASE_URL: sandbox.url,
  FLEX_TIMEOUT: "2",
  FLEX_WORKER_MAX_ATTEMPTS: "8",
  FLEX_WORKER_BACKOFF_BASE: "50 millis",
  FLEX_WORKER_BACKOFF_MAX: "1 second",
  FLEX_WORKER_LOG_LEVEL: "info",
  ...extra
})

export interface ProcessRun {
  readonly n: number
  readonly startedAt: number
  readonly endedAt: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Set when the nemesis stopped it. */
  readonly stoppedAt?: number
  readonly stoppedWith?: "SIGKILL" | "SIGTERM" | "SIGINT" | undefined
}

/** One worker process; stdout and stderr are also written to the work dir's log files. */
export const spawnWorker = (work: Work, n: number, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const startedAt = Date.now()
  const running = Cli.start(args, env)
  let stoppedAt: number | undefined
  let stoppedWith: ProcessRun["stoppedWith"]
  const done: Promise<ProcessRun> = running.done.then((result) => {
    writeFileSync(Path.join(work.logs, `run-${String(n).padStart(3, "0")}.stdout.log`), result.stdout)
    writeFileSync(Path.join(work.logs, `run-${String(n).padStart(3, "0")}.stderr.log`), result.stderr)
    return {
      n,
      startedAt,
      endedAt: Date.now(),
      code: result.code,
      signal: result.signal,
      stdout: result.stdout,
      stderr: result.stderr,
      ...(stoppedAt === undefined ? {} : { stoppedAt, stoppedWith })
    }
  })
  return {
    child: running.child,
    startedAt,
    done,
    /** What it printed so far. */
    output: running.output,
    running: () => running.child.exitCode === null && running.child.signalCode === null,
    stop: (signal: "SIGKILL" | "SIGTERM" | "SIGINT") => {
      stoppedAt = Date.now()
      stoppedWith = signal
      running.child.kill(signal)
      return stoppedAt
    }
  }
}

/** True when the text is exactly one JSON value (what `--json` promises on stdout). */
export const isJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

export const callCount = (sandbox: Sandbox.SandboxHandle) => Effect.map(sandbox.calls, (calls) => calls.length)

/** Waits until the sandbox has seen `target` calls, the process exited, or `timeoutMs` passed. */
export const waitForCalls = (
  sandbox: Sandbox.SandboxHandle,
  target: number,
  isRunning: () => boolean,
  timeoutMs: number
) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && isRunning() && (yield* callCount(sandbox)) < target) {
      yield* Effect.sleep("20 millis")
    }
  })

export interface KillPlan {
  /** How many times to stop the worker mid-batch (each stop is followed by a restart). */
  readonly kills: number
  readonly signal?: "SIGKILL" | "SIGTERM" | "SIGINT" | ((round: number) => "SIGKILL" | "SIGTERM" | "SIGINT")
  /** Where to stop: after this many more calls (0: during start-up or intake, after `startupMs`). */
  readonly point: (rng: Prng, round: number) => { calls: number; extraMs: number }
  /** Stops after which the restart waits `longStopMs` (the sandbox's world may move on meanwhile). */
  readonly longStop?: (round: number) => boolean
  readonly longStopMs?: number
  /** Give up waiting for a kill point after this long (the round then kills wherever it is). */
  readonly roundTimeoutMs?: number
}

export interface Nemesis {
  readonly runs: ReadonlyArray<ProcessRun>
  readonly restarts: ReadonlyArray<Invariants.Restart>
  readonly kills: number
  readonly final: ProcessRun
}

/**
 * Runs `args` under the kill plan: start, stop at a seeded random point, wait for the process to be
 * gone, note what the store had decided, restart; after the planned stops, one last run to the end.
 * `first` is the first process's arguments (the batch with its file), `resume` what later processes run.
 */
export const runWithKills = (options: {
  readonly sandbox: Sandbox.SandboxHandle
  readonly work: Work
  readonly first: ReadonlyArray<string>
  readonly resume: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly plan: KillPlan
  readonly rng: Prng
  /** Bound of the final run. */
  readonly finalTimeoutMs?: number
  /** How many times to restart a worker that exited non-zero by itself (as a supervisor would). */
  readonly restartsAfterFailure?: number
  readonly restartDelayMs?: number
  /** Runs before the last (unstopped) process starts. */
  readonly beforeFinal?: Effect.Effect<void>
  /**
   * Whether every input is stored: until then a restart runs `first` again, as an operator whose run
   * was killed during intake would (a resume without the file only finishes what was stored).
   */
  readonly intakeComplete?: () => boolean
}) =>
  Effect.gen(function* () {
    const { sandbox, work, plan, rng } = options
    const runs: Array<ProcessRun> = []
    const restarts: Array<Invariants.Restart> = []
    let kills = 0
    let n = 0
    let pendingRestart: { stoppedAt: number; decidedAtStop: ReadonlySet<string>; long: boolean } | undefined
    const argsFor = () =>
      n <= 1 || (options.intakeComplete !== undefined && !options.intakeComplete()) ? options.first : options.resume
    const noteRestart = () => {
      if (pendingRestart === undefined) return
      restarts.push({ ...pendingRestart, restartedAt: Date.now() })
      pendingRestart = undefined
    }
    for (let round = 0; kills < plan.kills; round++) {
      if (round > plan.kills * 3) break
      noteRestart()
      const proc = spawnWorker(work, ++n, argsFor(), options.env)
      const point = plan.point(rng, round)
      if (point.calls > 0) {
        const target = (yield* callCount(sandbox)) + point.calls
        yield* waitForCalls(sandbox, target, proc.running, plan.roundTimeoutMs ?? 30_000)
      }
      if (point.extraMs > 0) yield* Effect.sleep(point.extraMs)
      let stoppedAt: number | undefined
      if (proc.running()) {
        const signal = typeof plan.signal === "function" ? plan.signal(round) : (plan.signal ?? "SIGKILL")
        stoppedAt = proc.stop(signal)
        kills++
      }
      const run = yield* Effect.promise(() => proc.done)
      runs.push(run)
      if (stoppedAt === undefined) {
        // It finished before the kill point: nothing was pending any more. Nothing to restart.
        if (run.code !== 0) return yield* Effect.dieMessage(`run ${n} exited ${run.code}: ${run.stderr.slice(-2000)}`)
        break
      }
      const long = plan.longStop?.(round) ?? false
      pendingRestart = {
        stoppedAt,
        decidedAtStop: existsSync(work.store) ? Invariants.decided(work.store) : new Set(),
        long
      }
      if (long) yield* Effect.sleep(plan.longStopMs ?? 5000)
    }
    if (options.beforeFinal !== undefined) yield* options.beforeFinal
    noteRestart()
    const last = spawnWorker(work, ++n, argsFor(), options.env)
    const timeout = options.finalTimeoutMs ?? 300_000
    const final = yield* Effect.promise(() => last.done).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => {
          last.stop("SIGKILL")
          return new Error(`the final run did not finish within ${timeout / 1000} s`)
        }
      }),
      Effect.orDie
    )
    runs.push(final)
    // A worker that failed on its own (not stopped by us) is restarted, as a supervisor would.
    let last_ = final
    for (let i = 0; i < (options.restartsAfterFailure ?? 0) && last_.code !== 0; i++) {
      const decidedAtStop = existsSync(work.store) ? Invariants.decided(work.store) : new Set<string>()
      yield* Effect.sleep(options.restartDelayMs ?? 0)
      restarts.push({ stoppedAt: last_.endedAt, restartedAt: Date.now(), decidedAtStop })
      const again = spawnWorker(work, ++n, options.resume, options.env)
      last_ = yield* Effect.promise(() => again.done)
      runs.push(last_)
    }
    return { runs, restarts, kills, final: last_ } satisfies Nemesis
  })

/**
 * A fault storm: `profile` for `onMs`, then `between` for `offMs`, repeated while the returned fiber
 * runs (interrupt it to stop; the sandbox is left on `between`).
 */
export const storm = (
  sandbox: Sandbox.SandboxHandle,
  profile: FaultProfile.Input,
  options: { onMs: number; offMs: number; between?: FaultProfile.Input }
) =>
  Effect.gen(function* () {
    const between = options.between ?? "none"
    return yield* Effect.forkScoped(
      Effect.gen(function* () {
        while (true) {
          yield* Effect.orDie(sandbox.setFaults(profile))
          yield* Effect.sleep(options.onMs)
          yield* Effect.orDie(sandbox.setFaults(between))
          yield* Effect.sleep(options.offMs)
        }
      }).pipe(Effect.ensuring(Effect.ignore(sandbox.setFaults(between))))
    )
  })

export const stopStorm = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => Fiber.interrupt(fiber)

// ---------------------------------------------------------------------------------------------------
// Secrets

/** Every file under `dir` (logs, the store with its -wal/-shm, the lock file, inputs). */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : []
  })

/**
 * Where a canary (the API key or the API token, whole or just its random part) appears: in the given
 * texts (stdout, stderr, responses, error messages) or in any file under the given directories, read as
 * bytes (SQLite pages and WAL included).
 */
export const secretLeaks = (texts: ReadonlyArray<{ label: string; text: string }>, dirs: ReadonlyArray<string>) => {
  const needles = [CANARY_KEY, canarySecret, CANARY_TOKEN, tokenSecret]
  const leaks: Array<string> = []
  for (const { label, text } of texts) {
    if (needles.some((needle) => text.includes(needle))) leaks.push(label)
  }
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    for (const file of filesUnder(dir)) {
      const bytes = readFileSync(file)
      if (
        needles.some(
          (needle) => bytes.includes(Buffer.from(needle, "utf8")) || bytes.includes(Buffer.from(needle, "utf16le"))
        )
      ) {
        leaks.push(file)
      }
    }
  }
  return leaks
}

/** The outputs of a scenario's processes, labelled, for {@link secretLeaks}. */
export const outputsOf = (runs: ReadonlyArray<ProcessRun>) =>
  runs.flatMap((run) => [
    { label: `run ${run.n} stdout`, text: run.stdout },
    { label: `run ${run.n} stderr`, text: run.stderr }
  ])

// ---------------------------------------------------------------------------------------------------
// The summary line

export interface Line {
  readonly scenario: string
  readonly requests: number
  readonly kills: number
  readonly faults: Readonly<Record<string, number>>
  readonly result: Invariants.Result
  readonly seconds: number
  readonly extra?: string
  readonly pass: boolean
}

const faultText = (faults: Readonly<Record<string, number>>) => {
  const entries = Object.entries(faults).sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${v}`).join(", ")
}

/**
 * Prints the scenario's one summary line (what RELIABILITY.md copies) and appends it, as JSON, to
 * `$FLEX_CHAOS_SUMMARY` when that is set.
 */
export const summarize = (line: Line) => {
  const r = line.result
  const rate =
    r.rate === undefined
      ? `max rate ${r.maxRate}/s (no limit set)`
      : `max rate ${r.maxRate}/s of ${r.rate}/s (allowed ${r.rateAllowed}; over 5 s: ${r.maxRate5s}, allowed ${r.rateAllowed5s})`
  const text = [
    `CHAOS ${line.pass ? "PASS" : "FAIL"} | ${line.scenario}`,
    `requests ${line.requests}`,
    `kills ${line.kills}`,
    `faults ${faultText(line.faults)}`,
    `lost ${r.lost.length}`,
    `phantom ${r.phantom.length}`,
    `duplicates ${r.duplicates}`,
    rate,
    `429s ${r.throttled} (Retry-After violations ${r.retryAfterViolations.length})`,
    `unconfirmed ${r.unconfirmed.length}, mismatched ${r.mismatched.length}, unresolved ${r.unresolved}`,
    `restarts ${r.restarts} (in progress ${r.inProgressAtRestart}, read first ${r.firstActionRead})`,
    `calls ${r.calls}`,
    `outcomes ${JSON.stringify(r.byOutcome)}`,
    ...(line.extra === undefined ? [] : [line.extra]),
    `time ${line.seconds.toFixed(1)} s`
  ].join(" | ")
  console.log(text)
  if (r.violations.length > 0) {
    const evidence = Object.entries(r.evidence).map(([id, history]) => `${id}: ${history}`)
    console.log(
      `  violations:\n    ${r.violations.slice(0, 40).join("\n    ")}\n  evidence (call history; #n: made after n restarts):\n    ${evidence.join("\n    ")}`
    )
  }
  const file = process.env.FLEX_CHAOS_SUMMARY
  if (file !== undefined && file !== "")
    appendFileSync(file, `${JSON.stringify({ ...line, text, result: undefined, violations: r.violations })}\n`)
  return text
}

// ---------------------------------------------------------------------------------------------------
// Store trouble

/** Another process holds an exclusive lock on the SQLite file for `ms` (see {@link Process.lockSqlite}). */
export const lockStore = Process.lockSqlite
