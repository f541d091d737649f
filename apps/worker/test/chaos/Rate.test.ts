/**
 * Rate discipline (invariant 6) where it is hardest to keep: a read-heavy batch (intents stuck in
 * `processing` are read after every refused cancel) while reads fail half the time, so retries pile up;
 * and kill -9 with immediate restarts, so the calls of two processes meet in the same second.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import { batchScenario } from "../support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

describe("chaos: rate discipline", () => {
  it.scopedLive(
    "read-heavy batch while half the reads fail with 5xx: no window sees more than --rate 20 (with tolerance)",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "rate 20/s, read-heavy, 50 % of reads 5xx",
          seed: 2020,
          requests: 100,
          processing: 0.4,
          faults: { default: { latency: { min_ms: 0, max_ms: 20 } }, retrieve: { error_rate: 0.5 } },
          rate: 20,
          concurrency: 32
        })
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-1000))
        assert.isAbove(o.result.faults.server_error ?? 0, 0)
        assert.isAtMost(o.result.maxRate, o.result.rateAllowed!, "1-second windows")
        assert.isAtMost(o.result.maxRate5s, o.result.rateAllowed5s!, "5-second windows")
        assert.deepStrictEqual(o.result.violations, [])
      }),
    600_000
  )

  it.scopedLive(
    "kill -9 and restart at once, 6 times, at --rate 30: the calls of two processes never add up over the limit",
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: "rate 30/s across 6 immediate kill -9 restarts",
          seed: 3030,
          requests: 400,
          faults: { default: { latency: { min_ms: 0, max_ms: 20 } } },
          rate: 30,
          plan: { kills: 6, point: (rng) => ({ calls: rng.int(60, 120), extraMs: 0 }) }
        })
        assert.strictEqual(o.kills, 6)
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-1000))
        assert.isAtMost(o.result.maxRate, o.result.rateAllowed!)
        assert.deepStrictEqual(o.result.violations, [])
      }),
    600_000
  )
})
