/**
 * Store trouble: another process takes an exclusive lock on the worker's SQLite file, briefly (under
 * SQLite's busy timeout) and for long, mid-batch; and holds it while the worker starts. Whatever the
 * worker does meanwhile (wait, or exit with a one-line error), once the lock is gone a restart finishes
 * every request, and every invariant holds.
 *
 * PostgreSQL stopped and restarted mid-batch in cluster mode needs `flex-worker serve` (not built yet):
 * see RELIABILITY.md.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import * as Invariants from "../support/Invariants.js"
import {
  CANARY_KEY,
  intentMix,
  isJson,
  lockStore,
  outputsOf,
  prng,
  secretLeaks,
  spawnWorker,
  summarize,
  waitForCalls,
  workDir,
  workerEnv
} from "./support/Scenario.js"
import { batchScenario } from "./support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

const oneLine = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("flex-worker:"))
    .join("\n")

describe("chaos: the SQLite store locked by another process", () => {
  it.scopedLive(
    "a 2 s lock mid-batch (under the busy timeout) is waited out: one run, nothing lost",
    () =>
      Effect.gen(function* () {
        let lockedAt = 0
        const o = yield* batchScenario({
          name: "store locked 2 s mid-batch",
          seed: 5101,
          requests: 300,
          faults: "flaky",
          rate: 50,
          during: ({ sandbox, store }) =>
            Effect.gen(function* () {
              yield* waitForCalls(sandbox, 100, () => true, 60_000)
              const lock = yield* lockStore(store, 2000)
              lockedAt = Date.now()
              yield* Effect.promise(() => lock.released)
            })
        })
        assert.isAbove(lockedAt, 0, "the lock was taken")
        assert.deepStrictEqual(
          o.runs.map((r) => r.code),
          [0],
          oneLine(o.runs[0]!.stderr)
        )
        assert.deepStrictEqual(o.leaks, [])
        assert.deepStrictEqual(o.result.violations, [])
      }),
    300_000
  )

  it.scopedLive(
    "a 15 s lock mid-batch: the worker waits or exits with one line; a restart finishes everything",
    () =>
      Effect.gen(function* () {
        let releasedAt = 0
        const o = yield* batchScenario({
          name: "store locked 15 s mid-batch (restarted by a supervisor if it exits)",
          seed: 5102,
          requests: 300,
          faults: "flaky",
          rate: 50,
          restartsAfterFailure: 3,
          restartDelayMs: 1000,
          during: ({ sandbox, store }) =>
            Effect.gen(function* () {
              yield* waitForCalls(sandbox, 100, () => true, 60_000)
              const lock = yield* lockStore(store, 15_000)
              yield* Effect.promise(() => lock.released)
              releasedAt = Date.now()
            })
        })
        const first = o.runs[0]!
        console.log(
          `  first run: exit ${first.code} ${first.endedAt > releasedAt ? `${first.endedAt - releasedAt} ms after the lock was released` : `${releasedAt - first.endedAt} ms before the lock was released`}: ${oneLine(first.stderr)}`
        )
        for (const run of o.runs) {
          assert.include([0, 1], run.code, run.stderr.slice(-500))
          assert.notInclude(run.stderr, "    at ", "no stack trace")
          if (run.code !== 0) assert.strictEqual(oneLine(run.stderr).split("\n").length, 1, "one line")
        }
        // Exactly one JSON object on stdout of a --json run, whatever was logged meanwhile.
        for (const run of o.runs) {
          if (run.code === 0)
            assert.isTrue(isJson(run.stdout), `stdout is not one JSON object: ${run.stdout.slice(0, 300)}`)
        }
        assert.strictEqual(o.final.code, 0)
        assert.deepStrictEqual(o.leaks, [])
        assert.deepStrictEqual(o.result.violations, [])
      }),
    300_000
  )

  it.scopedLive(
    "the store locked when the worker starts: it fails fast with one line, or waits; after the lock, everything runs",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const sandbox = yield* Sandbox.start({ seed: 5103, apiKey: CANARY_KEY })
        const intents = yield* sandbox.createIntents(intentMix(60, prng(5103)))
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = workDir("store-locked-at-start")
        const env = workerEnv(sandbox)
        const common = ["--store", work.store, "--rate", "50", "--json"]
        // An empty batch creates the store.
        const create = yield* Effect.promise(() => spawnWorker(work, 1, ["cancel", ...common], env).done)
        assert.strictEqual(create.code, 0, create.stderr)
        const lock = yield* lockStore(work.store, 8000)
        const lockedAt = Date.now()
        const blocked = yield* Effect.promise(() => spawnWorker(work, 2, ["cancel", ...ids, ...common], env).done)
        const blockedFor = blocked.endedAt - lockedAt
        yield* Effect.promise(() => lock.released)
        const runs = [create, blocked]
        if (blocked.code !== 0) {
          assert.include([1, 2], blocked.code, blocked.stderr.slice(-500))
          assert.strictEqual(oneLine(blocked.stderr).split("\n").length, 1, blocked.stderr.slice(-500))
          assert.notInclude(blocked.stderr, "    at ")
          const again = yield* Effect.promise(() => spawnWorker(work, 3, ["cancel", ...ids, ...common], env).done)
          runs.push(again)
          assert.strictEqual(again.code, 0, again.stderr.slice(-1000))
        }
        const last = runs[runs.length - 1]!
        assert.isTrue(isJson(last.stdout), `stdout is not one JSON object: ${last.stdout.slice(0, 300)}`)
        const result = yield* Invariants.checkAll(sandbox, work.store, { requested: ids, rate: 50 })
        const leaks = secretLeaks(outputsOf(runs), [work.dir])
        summarize({
          scenario: "store locked 8 s when the worker starts",
          requests: ids.length,
          kills: 0,
          faults: result.faults,
          result,
          seconds: (Date.now() - t0) / 1000,
          extra: `the blocked run exited ${blocked.code} after ${blockedFor} ms: ${oneLine(blocked.stderr) || "(no message)"}`,
          pass: result.violations.length === 0 && leaks.length === 0 && last.code === 0
        })
        assert.deepStrictEqual(leaks, [])
        assert.deepStrictEqual(result.violations, [])
      }),
    300_000
  )
})
