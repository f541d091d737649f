/**
 * Store trouble: another process takes an exclusive lock on the worker's SQLite file mid-batch, briefly
 * (2 s) and for long (15 s); holds it while the worker starts (8 s); and holds it for longer than the
 * worker waits (60 s, StoreLock.client). A lock the worker can wait out is waited out in the same run;
 * a longer one ends it with a one-line error (exit 2), and a restart after the lock finishes every
 * request. Every invariant holds.
 *
 * PostgreSQL stopped and restarted mid-batch in cluster mode needs `flex-worker serve` (not built yet):
 * see RELIABILITY.md.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import * as Invariants from "../support/invariants.js"
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
} from "../support/scenario.js"
import { batchScenario } from "../support/scenarios.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

const oneLine = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("flex-worker:"))
    .join("\n")

describe("chaos: the SQLite store locked by another process", () => {
  it.scopedLive(
    "a 2 s lock mid-batch is waited out: one run, nothing lost",
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
    "a 15 s lock mid-batch is waited out too: one run, stderr JSON log lines, nothing lost",
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
        // The worker waits up to 60 s for the store; a supervisor's restart is not needed.
        assert.deepStrictEqual(
          o.runs.map((r) => r.code),
          [0],
          oneLine(first.stderr)
        )
        // Off a terminal stderr is JSON log lines (the engine logs "Shard lock storage is unhealthy" with
        // its cause when its 10 s lock refresh times out) and nothing else: no bare stack trace.
        const plain = first.stderr.split("\n").filter((line) => line !== "" && !isJson(line))
        assert.deepStrictEqual(plain, [])
        // Exactly one JSON object on stdout of a --json run, whatever was logged meanwhile.
        assert.isTrue(isJson(first.stdout), `stdout is not one JSON object: ${first.stdout.slice(0, 300)}`)
        assert.strictEqual(o.final.code, 0)
        assert.deepStrictEqual(o.leaks, [])
        assert.deepStrictEqual(o.result.violations, [])
      }),
    300_000
  )

  it.scopedLive(
    "the store locked for 8 s when the worker starts: it waits, then runs everything",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const sandbox = yield* Sandbox.start({ seed: 5103, apiKey: CANARY_KEY })
        const intents = yield* sandbox.createIntents(intentMix(60, prng(5103)))
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = workDir("store-locked-at-start")
        const env = workerEnv(sandbox)
        const common = ["--store", work.store, "--rate", "50", "--json", "--ok-if-attention"]
        // An empty batch creates the store.
        const create = yield* Effect.promise(() => spawnWorker(work, 1, ["cancel", ...common], env).done)
        assert.strictEqual(create.code, 0, create.stderr)
        const lock = yield* lockStore(work.store, 8000)
        const lockedAt = Date.now()
        const blocked = yield* Effect.promise(() => spawnWorker(work, 2, ["cancel", ...ids, ...common], env).done)
        const blockedFor = blocked.endedAt - lockedAt
        yield* Effect.promise(() => lock.released)
        const runs = [create, blocked]
        assert.strictEqual(blocked.code, 0, blocked.stderr.slice(-500))
        assert.isAbove(blockedFor, 7000, "it waited for the lock")
        const last = blocked
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

  it.scopedLive(
    "the store locked for 75 s, past the worker's 60 s wait: one line, exit 2; after the lock, everything runs",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const sandbox = yield* Sandbox.start({ seed: 5104, apiKey: CANARY_KEY })
        const intents = yield* sandbox.createIntents(intentMix(40, prng(5104)))
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = workDir("store-locked-past-the-wait")
        const env = workerEnv(sandbox)
        const common = ["--store", work.store, "--rate", "50", "--json", "--ok-if-attention"]
        const create = yield* Effect.promise(() => spawnWorker(work, 1, ["cancel", ...common], env).done)
        assert.strictEqual(create.code, 0, create.stderr)
        const lock = yield* lockStore(work.store, 75_000)
        const lockedAt = Date.now()
        const blocked = yield* Effect.promise(() => spawnWorker(work, 2, ["cancel", ...ids, ...common], env).done)
        const blockedFor = blocked.endedAt - lockedAt
        assert.strictEqual(blocked.code, 2, blocked.stderr.slice(-500))
        assert.strictEqual(
          oneLine(blocked.stderr),
          `flex-worker: Cannot use the store ${work.store}: it is locked by another process (waited 1m)`
        )
        assert.deepStrictEqual(
          blocked.stderr.split("\n").filter((line) => line !== "" && !isJson(line) && !line.startsWith("flex-worker:")),
          []
        )
        assert.isAbove(blockedFor, 59_000, "it waited the full minute")
        assert.isBelow(blockedFor, 74_000, "and gave up before the lock was gone")
        yield* Effect.promise(() => lock.released)
        const again = yield* Effect.promise(() => spawnWorker(work, 3, ["cancel", ...ids, ...common], env).done)
        assert.strictEqual(again.code, 0, again.stderr.slice(-1000))
        assert.isTrue(isJson(again.stdout), `stdout is not one JSON object: ${again.stdout.slice(0, 300)}`)
        const runs = [create, blocked, again]
        const result = yield* Invariants.checkAll(sandbox, work.store, { requested: ids, rate: 50 })
        const leaks = secretLeaks(outputsOf(runs), [work.dir])
        summarize({
          scenario: "store locked 75 s when the worker starts (past the 60 s wait)",
          requests: ids.length,
          kills: 0,
          faults: result.faults,
          result,
          seconds: (Date.now() - t0) / 1000,
          extra: `the blocked run exited ${blocked.code} after ${blockedFor} ms: ${oneLine(blocked.stderr)}`,
          pass: result.violations.length === 0 && leaks.length === 0 && again.code === 0
        })
        assert.deepStrictEqual(leaks, [])
        assert.deepStrictEqual(result.violations, [])
      }),
    300_000
  )
})
