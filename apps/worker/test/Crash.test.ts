import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Invariants from "./support/invariants.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

describe("kill -9 mid-batch", () => {
  it.scopedLive(
    "after repeated kill -9 and restarts, every request has exactly one outcome and nothing else is off",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({
          seed: 31,
          faults: {
            default: { latency: { min_ms: 2, max_ms: 15 }, error_rate: 0.05, reset_rate: 0.03 },
            cancel: { commit_then_drop_rate: 0.05, error_rate: 0.05, reset_rate: 0.03 }
          }
        })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 120 }, (_, i) => ({
            status: i % 10 === 0 ? ("succeeded" as const) : ("requires_capture" as const),
            amount: 1000 + i,
            capture_method: "manual" as const
          }))
        )
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = mkdtempSync(Path.join(tmpdir(), "flex-crash-"))
        const file = Path.join(work, "ids.txt")
        writeFileSync(file, `${ids.join("\n")}\n`)
        const store = Path.join(work, "w.sqlite")
        const env = {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          FLEX_TIMEOUT: "2",
          FLEX_WORKER_MAX_ATTEMPTS: "20",
          FLEX_WORKER_BACKOFF_BASE: "20 millis",
          FLEX_WORKER_BACKOFF_MAX: "200 millis"
        }
        const args = ["cancel", "--file", file, "--store", store, "--rate", "150", "--concurrency", "16", "--json"]
        let kills = 0
        for (let round = 0; round < 4; round++) {
          const run = Cli.start(args, env)
          // Kill once some work has happened since the start of this round: mid-batch, at a varying point.
          const target = (yield* sandbox.calls).length + 15 + round * 10
          for (let i = 0; i < 400 && (yield* sandbox.calls).length < target; i++) yield* Effect.sleep("10 millis")
          yield* Effect.sleep(`${(round * 37) % 60} millis`)
          if (run.child.exitCode === null) {
            run.child.kill("SIGKILL")
            kills++
          }
          yield* Effect.promise(() => run.done)
        }
        assert.isTrue(kills >= 3, `killed ${kills} times`)
        const last = yield* Effect.promise(() => Cli.run(args, env))
        // Everything finished; the 12 succeeded intents (refund instead) need a person: exit 3.
        assert.strictEqual(last.code, 3, last.stderr)
        const report = JSON.parse(last.stdout)
        assert.strictEqual(report.total, 120)
        assert.strictEqual(report.outcomes.canceled + report.outcomes.already_canceled, 108)
        assert.strictEqual(report.outcomes.not_cancelable, 12)
        const summary = yield* Invariants.check(sandbox, store, ids)
        assert.deepStrictEqual(summary.violations, [])
        assert.strictEqual(summary.outcomes, 120)
        console.log(
          `crash test: ${kills} kill -9, ${summary.outcomes} outcomes for ${summary.requested} requests, ` +
            `lost ${summary.lost.length}, phantom ${summary.phantom.length}, duplicate cancel calls ${summary.duplicates}`
        )
      }),
    120_000
  )
})
