/**
 * `flex-worker serve` stopped (SIGTERM) while calls are on the wire, on SQLite (the embedded engine)
 * and on PostgreSQL (a cluster runner): nothing is sent after the stop line, the calls on the wire are
 * answered before the engine stops, exit 143, and the next start finishes every request.
 *
 * Exact whatever the load, as `Drain.test.ts` for a batch: the sandbox holds every call (`hold`), so
 * each workflow has one call on the wire and nothing else it could send when the signal arrives.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import type * as Scope from "effect/Scope"
import * as Cli from "./support/cli.js"
import * as Pg from "./support/pg.js"
import * as Serve from "./support/serve.js"

const dir = mkdtempSync(Path.join(tmpdir(), "flex-serve-drain-"))
beforeAll(() => Cli.ensureBuilt(), 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const fast = { FLEX_WORKER_BACKOFF_BASE: "50 millis", FLEX_WORKER_BACKOFF_MAX: "500 millis", FLEX_TIMEOUT: "30" }
const count = 6

const until = (what: string, done: () => boolean | Promise<boolean>, output: () => unknown) =>
  Effect.gen(function* () {
    for (let i = 0; !(yield* promise(async () => done())); i++) {
      if (i > 2_400) assert.fail(`waited 60 s for ${what}: ${JSON.stringify(output())}`)
      yield* Effect.sleep("25 millis")
    }
  })

/** `args` starts serve on a store (a fresh one for each call, or the same one again when `again`). */
const drainTest = (args: (again: boolean) => Effect.Effect<ReadonlyArray<string>, never, Scope.Scope>, seed: number) =>
  Effect.gen(function* () {
    const sandbox = yield* Sandbox.start({ seed })
    const intents = yield* sandbox.createIntents(
      Array.from({ length: count }, () => ({ status: "requires_capture" as const }))
    )
    const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
    const server = yield* Serve.start(yield* args(false), env)
    yield* sandbox.hold
    const submitted = yield* promise(() =>
      server.request("/cancellations", {
        method: "POST",
        body: JSON.stringify({ cancellations: intents.map((i) => ({ payment_intent_id: i.payment_intent_id })) })
      })
    )
    assert.strictEqual(submitted.status, 202, submitted.text)
    const ids: ReadonlyArray<string> = submitted.body.request_ids
    let held = 0
    yield* until(
      `${count} calls on the wire`,
      () => {
        held = Effect.runSync(sandbox.held)
        return held >= count
      },
      server.output
    )
    server.child.kill("SIGTERM")
    yield* until(
      "the stop line",
      () => server.output().stderr.includes("flex-worker: SIGTERM: stopping;"),
      server.output
    )
    const onTheWire = (yield* sandbox.calls).length
    assert.strictEqual(onTheWire, held, "nothing but the held calls was sent")
    // The calls stay held a while: a stop that does not wait for them tears the engine down meanwhile
    // and exits, cutting them (seen at once below); a draining one is still waiting, well inside its 7 s.
    let exited = false
    void server.done.then(() => {
      exited = true
    })
    for (let i = 0; i < 40 && !exited; i++) yield* Effect.sleep("25 millis")
    assert.isFalse(exited, `serve exited with ${held} calls on the wire: ${server.output().stderr}`)
    yield* sandbox.release
    const stopped = yield* promise(() => server.done)
    assert.strictEqual(stopped.code, 143, stopped.stderr)
    const calls = yield* sandbox.calls
    // Answered and waited for: the engine stopped after the answers, not in the middle of the calls.
    assert.deepStrictEqual(
      calls.filter((c) => c.status === null).map((c) => `${c.method} ${c.path}`),
      [],
      "calls cut on the wire"
    )
    assert.deepStrictEqual(
      calls.slice(onTheWire).map((c) => `${c.at} ${c.method} ${c.path}`),
      [],
      "calls sent after the SIGTERM"
    )
    assert.notInclude(stopped.stderr, "left behind")
    assert.notInclude(stopped.stderr, "    at ", "no stack trace")
    // Nothing lost: the next start finishes every request, each intent canceled once.
    const again = yield* Serve.start(yield* args(true), env)
    for (const id of ids) {
      yield* until(
        `${id} done`,
        async () => (await again.request(`/cancellations/${id}`)).body?.state === "done",
        again.output
      )
    }
    assert.strictEqual((yield* sandbox.releases).length, count)
  })

describe("flex-worker serve: a stop drains the calls on the wire", () => {
  it.scopedLive(
    "on SQLite (embedded engine): SIGTERM lets the held calls finish, sends nothing more, exit 143, resumable",
    () => {
      const store = Path.join(dir, "drain.sqlite")
      return drainTest(() => Effect.succeed(["--store", store]), 81)
    },
    180_000
  )

  if (Pg.url !== undefined) {
    it.scopedLive(
      "on PostgreSQL (a cluster runner): SIGTERM lets the held calls finish, sends nothing more, exit 143, resumable",
      () =>
        Effect.gen(function* () {
          const db = yield* Pg.freshDatabase
          return yield* drainTest(
            () => Effect.map(Pg.freePort, (port) => ["--store", db.url, "--runner-address", `127.0.0.1:${port}`]),
            82
          )
        }),
      180_000
    )
  } else {
    it.skip(`on PostgreSQL: skipped: ${Pg.skipReason}`, () => {})
  }
})
