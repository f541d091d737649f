/**
 * The scenarios, parameterised: the full suite (test/chaos/*.test.ts) runs them at the issue's sizes,
 * the quick version (test/Chaos.quick.test.ts) at small ones. Each returns its summary line and the
 * checker's result; the tests assert on them.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { type Call, FaultProfile, Sandbox } from "@flex/sandbox"
import { Effect, Fiber } from "effect"
import * as Invariants from "./invariants.js"
import {
  CANARY_KEY,
  intentMix,
  type KillPlan,
  type Line,
  outputsOf,
  type ProcessRun,
  prng,
  runWithKills,
  secretLeaks,
  stopStorm,
  storm,
  summarize,
  unknownIds,
  workDir,
  workerEnv
} from "./scenario.js"

export interface Outcome {
  readonly line: Line
  readonly result: Invariants.Result
  readonly runs: ReadonlyArray<ProcessRun>
  readonly final: ProcessRun
  readonly leaks: ReadonlyArray<string>
  readonly report: any
  readonly kills: number
}

export interface BatchOptions {
  readonly name: string
  readonly seed: number
  readonly requests: number
  /** Faults for the whole run (a preset or a profile). */
  readonly faults?: FaultProfile.Input
  /** A storm switched on and off during the run, over `faults`. */
  readonly storm?: { profile: FaultProfile.Input; onMs: number; offMs: number }
  /** The sandbox's own token bucket (req/s). */
  readonly sandboxRate?: number
  readonly rate: number
  readonly concurrency?: number
  readonly plan?: KillPlan
  readonly env?: Record<string, string>
  readonly processing?: number
  /** Garbage lines mixed into the input file. */
  readonly garbage?: number
  readonly unknown?: number
  readonly finalTimeoutMs?: number
  /** Runs alongside the batch from its start (another process locking the store, say). */
  readonly during?: (context: { sandbox: Sandbox.SandboxHandle; store: string }) => Effect.Effect<void, unknown>
  /** Restarts of a worker that exited non-zero by itself (as a supervisor would), with a delay. */
  readonly restartsAfterFailure?: number
  readonly restartDelayMs?: number
  /** Faults for the last run (after every planned stop); by default they stay as they are. */
  readonly finalFaults?: FaultProfile.Input
}

/**
 * A batch from a file (CSV with a reason column, garbage lines and unknown IDs mixed in), run by the
 * CLI under the kill plan and the faults, then checked against all seven invariants and scanned for the
 * canary. Nothing is asserted here: the caller asserts on what comes back.
 */
export const batchScenario = (options: BatchOptions) =>
  Effect.gen(function* () {
    const t0 = Date.now()
    const rng = prng(options.seed)
    // The sandbox's own rate limit stays on whatever profile is in force (a storm swaps profiles).
    const profile = (input: FaultProfile.Input | undefined): FaultProfile.FaultProfile => {
      const p = input === undefined ? {} : typeof input === "string" ? FaultProfile.presets[input] : input
      return options.sandboxRate === undefined ? p : { ...p, rate_limit: { requests_per_second: options.sandboxRate } }
    }
    const sandbox = yield* Sandbox.start({ seed: options.seed, apiKey: CANARY_KEY })
    const unknown = unknownIds(options.unknown ?? Math.max(1, Math.round(options.requests / 200)), rng)
    const created = yield* sandbox.createIntents(
      intentMix(options.requests - unknown.length, rng, { processing: options.processing ?? 0.01 })
    )
    const ids = [...created.map((pi) => pi.payment_intent_id), ...unknown]
    // Shuffle, so unknown IDs and statuses are spread through the file.
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rng.int(0, i)
      ;[ids[i], ids[j]] = [ids[j]!, ids[i]!]
    }
    const work = workDir(options.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase())
    const lines = ["payment_intent_id,reason"]
    let garbage = 0
    for (const [i, id] of ids.entries()) {
      if (garbage < (options.garbage ?? 3) && rng.chance(0.01)) {
        lines.push(["not-an-id,typo", "fpi_SHORT,x", '"unterminated,quote'][garbage % 3]!)
        garbage++
      }
      // Some IDs in lower case: the same intent (IDs are case-insensitive).
      lines.push(`${i % 17 === 0 ? id.toLowerCase() : id},stale hold ${i}`)
    }
    const file = Path.join(work.dir, "cancel.csv")
    writeFileSync(file, `${lines.join("\n")}\n`)
    yield* sandbox.setFaults(profile(options.faults))
    const env = workerEnv(sandbox, options.env)
    const common = [
      "--store",
      work.store,
      "--rate",
      String(options.rate),
      "--concurrency",
      String(options.concurrency ?? 16),
      "--json",
      // The scenarios judge completion and the invariants; outcomes that need a person are expected.
      "--ok-if-attention"
    ]
    const stormFiber =
      options.storm === undefined
        ? undefined
        : yield* storm(sandbox, profile(options.storm.profile), {
            onMs: options.storm.onMs,
            offMs: options.storm.offMs,
            between: profile(options.faults)
          })
    const during =
      options.during === undefined
        ? undefined
        : yield* Effect.forkScoped(Effect.orDie(options.during({ sandbox, store: work.store })))
    const nemesis = yield* runWithKills({
      restartsAfterFailure: options.restartsAfterFailure ?? 0,
      restartDelayMs: options.restartDelayMs ?? 0,
      sandbox,
      work,
      first: ["cancel", "--file", file, ...common],
      intakeComplete: () =>
        existsSync(work.store) &&
        Invariants.readRequests(work.store).length >= new Set(ids.map((id) => id.toLowerCase())).size,
      resume: ["cancel", ...common],
      env,
      plan: options.plan ?? { kills: 0, point: () => ({ calls: 0, extraMs: 0 }) },
      rng,
      finalTimeoutMs: options.finalTimeoutMs ?? 600_000,
      ...(options.finalFaults === undefined
        ? {}
        : {
            beforeFinal: Effect.gen(function* () {
              if (stormFiber !== undefined) yield* stopStorm(stormFiber)
              yield* Effect.orDie(sandbox.setFaults(profile(options.finalFaults)))
            })
          })
    })
    if (stormFiber !== undefined) yield* stopStorm(stormFiber)
    if (during !== undefined) yield* Fiber.join(during)
    const result = yield* Invariants.checkAll(sandbox, work.store, {
      requested: ids,
      rate: options.rate,
      sandboxRate: options.sandboxRate,
      restarts: nemesis.restarts,
      initial: new Map(created.map((pi) => [pi.payment_intent_id.toLowerCase(), pi.status]))
    })
    let report: any
    try {
      report = JSON.parse(nemesis.final.stdout)
    } catch {
      report = undefined
    }
    const leaks = secretLeaks(outputsOf(nemesis.runs), [work.dir])
    const pass = result.violations.length === 0 && leaks.length === 0 && nemesis.final.code === 0
    const line: Line = {
      scenario: options.name,
      requests: ids.length,
      kills: nemesis.kills,
      faults: result.faults,
      result,
      seconds: (Date.now() - t0) / 1000,
      extra: `exits ${nemesis.runs.map((r) => r.code ?? r.signal).join(",")}${stopTimes(nemesis.runs, yield* sandbox.calls)}, invalid lines ${report?.invalid_lines?.length ?? "?"}, secrets leaked ${leaks.length}`,
      pass
    }
    summarize(line)
    // A passing scenario leaves nothing behind; a failing one keeps its logs and store for a look.
    if (pass) rmSync(work.dir, { recursive: true, force: true })
    else console.log(`  kept for inspection: ${work.dir}`)
    return {
      line,
      result,
      runs: nemesis.runs,
      final: nemesis.final,
      leaks,
      report,
      kills: nemesis.kills
    } satisfies Outcome
  })

/** How long each process took to exit after a SIGTERM/SIGINT (kill -9 is immediate). */
const stopTimes = (runs: ReadonlyArray<ProcessRun>, calls: ReadonlyArray<Call.Call>) => {
  const graceful = runs.filter((r) => r.stoppedAt !== undefined && r.stoppedWith !== "SIGKILL")
  const after = (r: ProcessRun) => {
    const between = calls.filter((c) => {
      const t = Date.parse(c.at)
      return t > r.stoppedAt! + 50 && t <= r.endedAt
    })
    return `${between.length} calls after it (${between.filter((c) => c.method === "POST").length} cancels)`
  }
  return graceful.length === 0
    ? ""
    : ` (exit after ${graceful.map((r) => `${r.stoppedWith} ${((r.endedAt - r.stoppedAt!) / 1000).toFixed(1)} s, ${after(r)}`).join("; ")})`
}

/** Kill points for the crash scenarios: mostly mid-batch after some calls, sometimes during start-up. */
export const randomKills = (
  kills: number,
  options: { maxCalls: number; longStopEvery?: number; longStopMs?: number }
): KillPlan => ({
  kills,
  point: (rng) =>
    rng.chance(0.15)
      ? { calls: 0, extraMs: rng.int(100, 900) }
      : { calls: rng.int(5, options.maxCalls), extraMs: rng.int(0, 40) },
  ...(options.longStopEvery === undefined
    ? {}
    : {
        longStop: (round: number) => round % options.longStopEvery! === options.longStopEvery! - 1,
        longStopMs: options.longStopMs ?? 3000
      }),
  roundTimeoutMs: 30_000
})
