/**
 * kill -9 at random moments (Jepsen's process-kill nemesis), each followed by a restart, over a large
 * batch with the `flaky` profile; then a smaller batch in fault bursts whose every stop is a long one.
 * The checker runs all seven invariants over the store and the sandbox.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import { batchScenario, randomKills } from "../support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

describe("chaos: kill -9", () => {
  it.scopedLive(
    "2,000 requests, flaky, 20 kill -9 at random moments: nothing lost, nothing phantom, every invariant holds",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "2,000 requests, flaky, 20 × kill -9",
          seed: 2000,
          requests: 2000,
          faults: "flaky",
          rate: 60,
          concurrency: 16,
          garbage: 5,
          plan: randomKills(20, { maxCalls: 220, longStopEvery: 5, longStopMs: 3000 }),
          finalTimeoutMs: 600_000
        })
        assert.strictEqual(o.kills, 20, "20 kill -9 mid-batch")
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-2000))
        assert.deepStrictEqual(o.result.lost, [], "lost")
        assert.deepStrictEqual(o.result.phantom, [], "phantom")
        assert.deepStrictEqual(o.leaks, [], "the canary key leaked")
        assert.deepStrictEqual(o.result.violations, [])
        assert.isTrue(o.line.pass)
      }),
    900_000
  )

  it.scopedLive(
    "long stops mid-storm: after each restart, a request in progress is read before anything is sent",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "long stops mid-storm (5 × kill -9, 4 s each)",
          seed: 77,
          requests: 300,
          faults: "flaky",
          storm: {
            profile: {
              default: { latency: { min_ms: 5, max_ms: 60 }, error_rate: 0.3, reset_rate: 0.1 },
              cancel: { error_rate: 0.2, commit_then_drop_rate: 0.2, reset_rate: 0.1, malformed_rate: 0.05 }
            },
            onMs: 1500,
            offMs: 1000
          },
          rate: 60,
          plan: {
            kills: 5,
            point: (rng) => ({ calls: rng.int(40, 120), extraMs: rng.int(0, 50) }),
            longStop: () => true,
            longStopMs: 4000
          }
        })
        assert.strictEqual(o.kills, 5)
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-2000))
        assert.isAbove(o.result.inProgressAtRestart, 0, "some requests were in progress at a stop")
        assert.deepStrictEqual(o.result.firstActionViolations, [], "invariant 7")
        assert.deepStrictEqual(o.leaks, [])
        assert.deepStrictEqual(o.result.violations, [])
      }),
    600_000
  )
})
