/**
 * SIGTERM (and SIGINT) mid-batch, while calls hang: the worker stops taking work, gives in-flight calls
 * its drain deadline (10 s, README "How it works"), exits 143 (130 for SIGINT) with a one-line message,
 * and the next start finishes every pending request, nothing lost.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import { batchScenario } from "../support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

/** The drain deadline the worker promises, and the stated tolerance for closing the store and exiting. */
const deadlineMs = 10_000
const shutdownToleranceMs = 3_000

describe("chaos: SIGTERM mid-batch", () => {
  it.scopedLive(
    "4 × SIGTERM/SIGINT while calls hang: each exit within the deadline, nothing lost, everything resumes",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "SIGTERM ×3 + SIGINT ×1 mid-batch, calls hanging",
          seed: 143,
          requests: 300,
          faults: {
            default: { latency: { min_ms: 5, max_ms: 40 } },
            retrieve: { hang_rate: 0.03 },
            cancel: { hang_rate: 0.05, commit_then_drop_rate: 0.03 }
          },
          finalFaults: "flaky",
          rate: 50,
          // A hanging call is only cut by the signal: the client's own timeout is far away.
          env: { FLEX_TIMEOUT: "30" },
          plan: {
            kills: 4,
            signal: (round) => (round === 2 ? "SIGINT" : "SIGTERM"),
            point: (rng) => ({ calls: rng.int(40, 90), extraMs: rng.int(0, 50) }),
            roundTimeoutMs: 60_000
          }
        })
        const stopped = o.runs.filter((run) => run.stoppedAt !== undefined)
        assert.strictEqual(stopped.length, 4)
        const exits = stopped.map((run) => ({
          signal: run.stoppedWith,
          code: run.code,
          ms: run.endedAt - run.stoppedAt!
        }))
        console.log(`  exits after the signal: ${exits.map((e) => `${e.signal} → ${e.code} in ${e.ms} ms`).join(", ")}`)
        for (const run of stopped) {
          assert.strictEqual(run.code, run.stoppedWith === "SIGINT" ? 130 : 143, run.stderr.slice(-1000))
          assert.isAtMost(run.endedAt - run.stoppedAt!, deadlineMs + shutdownToleranceMs, "exit within the deadline")
          assert.include(run.stderr, "pending requests resume on the next start")
          assert.notInclude(run.stderr, "    at ", "no stack trace")
        }
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-2000))
        assert.deepStrictEqual(o.result.lost, [], "lost")
        assert.deepStrictEqual(o.leaks, [], "the canary key leaked")
        assert.deepStrictEqual(o.result.violations, [])
      }),
    600_000
  )
})
