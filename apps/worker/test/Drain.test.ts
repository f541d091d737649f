/**
 * A stop (SIGTERM/SIGINT) mid-batch, through the built CLI: no call leaves the process after the
 * signal, the calls already on the wire finish, the exit comes as soon as they have (not after a fixed
 * deadline), and the next start finishes everything.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"

const dir = mkdtempSync(Path.join(tmpdir(), "flex-worker-drain-"))
beforeAll(() => Cli.ensureBuilt(), 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const fast = { FLEX_WORKER_BACKOFF_BASE: "300 millis", FLEX_WORKER_BACKOFF_MAX: "600 millis" }

const cases = [
  // Slow answers (calls are on the wire at the signal) and 5xx (workflows sit in backoff, about to send
  // their next call): both kinds of in-progress work the stop has to hold. The exit follows the slowest
  // answer, not the deadline.
  { signal: "SIGTERM", hang: false, exitWithinMs: 5_000 },
  // Calls that never get an answer (the client's timeout is 30 s): the exit comes at the deadline (7 s
  // for the calls, 2 s for the engine), not when they time out.
  { signal: "SIGINT", hang: true, exitWithinMs: 12_000 }
] as const

describe("stopping mid-batch", () => {
  for (const { signal, hang, exitWithinMs } of cases) {
    it.scopedLive(
      `${signal}${hang ? " while calls hang" : ""}: nothing is sent after the signal, calls on the wire finish, bounded exit, resumable`,
      () =>
        Effect.gen(function* () {
          const sandbox = yield* Sandbox.start({
            seed: 41,
            faults: {
              default: hang
                ? { latency: { min_ms: 100, max_ms: 100 }, hang_rate: 0.3 }
                : { latency: { min_ms: 400, max_ms: 400 }, error_rate: 0.3, error_statuses: [503] }
            }
          })
          const intents = yield* sandbox.createIntents(
            Array.from({ length: 40 }, () => ({ status: "requires_capture" as const }))
          )
          const ids = intents.map((i) => i.payment_intent_id)
          const store = Path.join(dir, `${signal}.sqlite`)
          const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, FLEX_TIMEOUT: "30 seconds", ...fast }
          const run = Cli.start(["cancel", ...ids, "--store", store, "--rate", "40", "--concurrency", "8"], env)
          for (let i = 0; i < 400 && (yield* sandbox.calls).length < 12; i++) yield* Effect.sleep("25 millis")
          const signaledAt = Date.now()
          run.child.kill(signal)
          const stopped = yield* promise(() => run.done)
          const exitedAfter = Date.now() - signaledAt
          assert.strictEqual(stopped.code, signal === "SIGTERM" ? 143 : 130, stopped.stderr)
          const calls = yield* sandbox.calls
          // A request leaving just as the signal lands can arrive a few ms after it; later ones cannot.
          const late = calls.filter((c) => Date.parse(c.at) > signaledAt + 50)
          assert.deepStrictEqual(
            late.map((c) => `${c.at} ${c.method} ${c.path}`),
            [],
            `calls sent after the ${signal} at ${new Date(signaledAt).toISOString()}`
          )
          assert.isBelow(calls.length, 80, "it stopped before the end")
          assert.isBelow(exitedAfter, exitWithinMs, `exited ${exitedAfter} ms after the signal`)
          // Nothing lost: the next start finishes every request.
          yield* sandbox.setFaults("none")
          const second = yield* promise(() => Cli.run(["cancel", "--store", store, "--rate", "200", "--json"], env))
          assert.strictEqual(second.code, 0, second.stderr)
          const report = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))
          assert.strictEqual(JSON.parse(report.stdout).outcomes.canceled, 40, report.stdout)
        })
    )
  }
})
