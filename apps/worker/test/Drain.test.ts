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
const concurrency = 8

const cases = [
  // The held calls are answered after the signal (half of them 503, so those workflows go into backoff,
  // about to send their next call): the stop lets them finish and sends nothing more, and the exit
  // follows the answers, not the deadline.
  { signal: "SIGTERM", hang: false },
  // Calls that never get an answer (the client's timeout is 30 s): the stop leaves them behind at the
  // deadline (7 s), not when they time out, and their requests stay pending.
  { signal: "SIGINT", hang: true }
] as const

describe("stopping mid-batch", () => {
  for (const { signal, hang } of cases) {
    it.scopedLive(
      `${signal}${hang ? " while calls hang" : ""}: nothing is sent after the signal, calls on the wire finish, bounded exit, resumable`,
      () =>
        Effect.gen(function* () {
          const sandbox = yield* Sandbox.start({
            seed: 41,
            faults: { default: { error_rate: 0.5, error_statuses: [503] } }
          })
          const intents = yield* sandbox.createIntents(
            Array.from({ length: 40 }, () => ({ status: "requires_capture" as const }))
          )
          const ids = intents.map((i) => i.payment_intent_id)
          const store = Path.join(dir, `${signal}.sqlite`)
          const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, FLEX_TIMEOUT: "30 seconds", ...fast }
          // Every call is held on the wire: with all of the worker's slots waiting for an answer, it
          // cannot send anything else, so the moment of the signal is exact, whatever the load.
          yield* sandbox.hold
          const run = Cli.start(
            ["cancel", ...ids, "--store", store, "--rate", "40", "--concurrency", String(concurrency)],
            env
          )
          const until = (what: string, done: () => boolean) =>
            Effect.gen(function* () {
              for (let i = 0; !done(); i++) {
                if (i > 2_400) assert.fail(`waited 60 s for ${what}: ${JSON.stringify(run.output())}`)
                yield* Effect.sleep("25 millis")
              }
            })
          let held = 0
          yield* until(`${concurrency} calls on the wire`, () => {
            held = Effect.runSync(sandbox.held)
            return held >= concurrency
          })
          run.child.kill(signal)
          // The worker says it is stopping in the same synchronous step that closes its gate.
          yield* until("the stop line", () => run.output().stderr.includes(`flex-worker: ${signal}: stopping;`))
          const onTheWire = (yield* sandbox.calls).length
          assert.strictEqual(onTheWire, held, "nothing but the held calls was sent")
          if (!hang) yield* sandbox.release
          const stopped = yield* promise(() => run.done)
          assert.strictEqual(stopped.code, signal === "SIGTERM" ? 143 : 130, stopped.stderr)
          const calls = yield* sandbox.calls
          assert.deepStrictEqual(
            calls.slice(onTheWire).map((c) => `${c.at} ${c.method} ${c.path}`),
            [],
            `calls sent after the ${signal}`
          )
          if (hang) {
            assert.include(stopped.stderr, `${held} calls still unanswered after 7s: left behind`, stopped.stderr)
          } else {
            // Answered (200 or 503) and waited for: the exit came from the drain, not from its deadline.
            assert.deepStrictEqual(
              calls.filter((c) => c.status === null),
              []
            )
            assert.notInclude(stopped.stderr, "left behind")
          }
          assert.notInclude(stopped.stderr, "    at ", "no stack trace")
          // Nothing lost: the next start finishes every request, each intent canceled once.
          yield* sandbox.release
          yield* sandbox.setFaults("none")
          const second = yield* promise(() => Cli.run(["cancel", "--store", store, "--rate", "200", "--json"], env))
          assert.strictEqual(second.code, 0, second.stderr)
          const report = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))
          assert.strictEqual(JSON.parse(report.stdout).outcomes.canceled, 40, report.stdout)
          assert.strictEqual((yield* sandbox.releases).length, 40)
        }),
      180_000
    )
  }
})
