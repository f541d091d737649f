/**
 * The quick version of the chaos suite (`pnpm test:chaos`, test/chaos/, RELIABILITY.md), small enough
 * for every `pnpm test`: kill -9 at seeded random moments during fault bursts, and SIGTERM mid-batch,
 * each checked against all seven invariants of the "nothing lost" checker and scanned for the canary
 * API key.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import { batchScenario, randomKills } from "./support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

describe("chaos, quick", () => {
  it.scopedLive(
    "150 requests, flaky with bursts of every fault, 3 kill -9 (one long stop): every invariant holds",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "quick: 150 requests, flaky + bursts, 3 × kill -9",
          seed: 8,
          requests: 150,
          faults: "flaky",
          storm: {
            profile: {
              default: {
                latency: { min_ms: 0, max_ms: 40 },
                error_rate: 0.15,
                html_502_rate: 0.05,
                reset_rate: 0.05,
                malformed_rate: 0.05
              },
              cancel: { commit_then_drop_rate: 0.15 }
            },
            onMs: 1500,
            offMs: 1000
          },
          rate: 60,
          plan: randomKills(3, { maxCalls: 60, longStopEvery: 3, longStopMs: 2000 }),
          finalTimeoutMs: 45_000
        })
        assert.strictEqual(o.kills, 3)
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-1000))
        assert.deepStrictEqual(o.result.lost, [], "lost")
        assert.deepStrictEqual(o.result.phantom, [], "phantom")
        assert.deepStrictEqual(o.leaks, [], "the canary key leaked")
        assert.deepStrictEqual(o.result.violations, [])
      }),
    90_000
  )

  it.scopedLive(
    "SIGTERM mid-batch: exits 143 within the drain deadline, and the next start finishes everything",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "quick: 100 requests, flaky, SIGTERM mid-batch",
          seed: 9,
          requests: 100,
          faults: "flaky",
          rate: 60,
          plan: { kills: 1, signal: "SIGTERM", point: (rng) => ({ calls: rng.int(30, 60), extraMs: 0 }) },
          finalTimeoutMs: 45_000
        })
        const stopped = o.runs[0]!
        assert.strictEqual(stopped.code, 143, stopped.stderr.slice(-500))
        assert.isAtMost(stopped.endedAt - stopped.stoppedAt!, 13_000, "within the 10 s drain deadline (+3 s)")
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-1000))
        assert.deepStrictEqual(o.leaks, [], "the canary key leaked")
        assert.deepStrictEqual(o.result.violations, [])
      }),
    90_000
  )
})
