/**
 * Fault storms (toxiproxy's catalogue plus the HTTP faults it cannot express), one kind at a time and
 * mixed: each storm is switched on for 2 s and off for 1 s, over and over, while a batch runs. Every
 * scenario checks all seven invariants; the rate-limit storms also check that every 429 was followed
 * by a wait of at least Retry-After.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import type { FaultProfile } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import { type BatchOptions, batchScenario, randomKills } from "../support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

const storm = (
  name: string,
  fault: string,
  profile: FaultProfile.FaultProfile | undefined,
  extra: Partial<BatchOptions> = {}
) =>
  it.scopedLive(
    `${name}: nothing lost, every invariant holds`,
    () =>
      Effect.gen(function* () {
        const o = yield* batchScenario({
          name: `storm: ${name}`,
          seed: name.length * 101,
          requests: 250,
          ...(profile === undefined ? {} : { storm: { profile, onMs: 2000, offMs: 1000 } }),
          rate: 50,
          ...extra
        })
        assert.isAbove(o.result.faults[fault] ?? 0, 0, `the ${fault} fault was injected`)
        assert.strictEqual(o.final.code, 0, o.final.stderr.slice(-2000))
        assert.deepStrictEqual(o.result.lost, [], "lost")
        assert.deepStrictEqual(o.result.phantom, [], "phantom")
        assert.deepStrictEqual(o.leaks, [], "the canary key leaked")
        assert.deepStrictEqual(o.result.violations, [])
      }),
    600_000
  )

const both = (settings: FaultProfile.Settings): FaultProfile.FaultProfile => ({ retrieve: settings, cancel: settings })

describe("chaos: fault storms, one kind at a time", () => {
  storm("5xx bursts", "server_error", both({ error_rate: 0.6, latency: { min_ms: 0, max_ms: 20 } }))
  // The sandbox's limit sits far below what the worker sends even on a busy machine (15/s was not
  // reached under load: no 429 at all, and the scenario tested nothing).
  storm("429 with Retry-After (sandbox limit 8/s, worker 30/s)", "rate_limit", undefined, {
    sandboxRate: 8,
    rate: 30
  })
  storm("connection resets", "reset", both({ reset_rate: 0.5 }))
  storm("hangs (the client's 2 s timeout fires)", "hang", both({ hang_rate: 0.3 }), { requests: 150 })
  storm("malformed JSON bodies", "malformed_json", both({ malformed_rate: 0.5 }))
  storm("HTML 502 from a proxy", "html_502", both({ html_502_rate: 0.6 }))
  storm("commit then drop (cancel executed, reply lost)", "commit_then_drop", {
    cancel: { commit_then_drop_rate: 0.6 }
  })
})

describe("chaos: fault storms, mixed", () => {
  storm(
    "everything at once, over flaky, with 3 kill -9",
    "commit_then_drop",
    {
      default: {
        latency: { min_ms: 0, max_ms: 80 },
        error_rate: 0.15,
        html_502_rate: 0.05,
        reset_rate: 0.05,
        hang_rate: 0.03,
        malformed_rate: 0.05
      },
      cancel: { commit_then_drop_rate: 0.15 }
    },
    { faults: "flaky", requests: 300, plan: randomKills(3, { maxCalls: 150 }) }
  )
  storm("the storm preset (20–400 ms, a third failing, hangs) under an 8 req/s limit", "rate_limit", undefined, {
    faults: "storm",
    sandboxRate: 8,
    rate: 40,
    requests: 150
  })
})
