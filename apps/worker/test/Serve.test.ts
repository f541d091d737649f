import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Serve from "./support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const store = () => Path.join(mkdtempSync(Path.join(tmpdir(), "flex-serve-")), "w.sqlite")
const fast = { FLEX_WORKER_BACKOFF_BASE: "20 millis", FLEX_WORKER_BACKOFF_MAX: "200 millis" }
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const waitDone = (server: Serve.Server, requestId: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 300; i++) {
      const res = yield* promise(() => server.request(`/cancellations/${requestId}`))
      if (res.body?.state === "done") return res.body
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.dieMessage(`${requestId} did not finish`)
  })

describe("flex-worker serve: the HTTP API (embedded engine)", () => {
  it.scopedLive("accepts one or a batch, reports state and outcome, and never cancels twice", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 51 })
      const [a, b, c] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 900, capture_method: "manual" },
        { status: "requires_capture" },
        { status: "succeeded" }
      ])
      const server = yield* Serve.start(["--store", store()], {
        FLEX_API_KEY: sandbox.apiKey,
        FLEX_BASE_URL: sandbox.url,
        ...fast
      })
      const one = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({ payment_intent_id: a!.payment_intent_id, reason: "dup" })
        })
      )
      assert.strictEqual(one.status, 202, one.text)
      assert.strictEqual(one.body.payment_intent_id, a!.payment_intent_id)
      const done = yield* waitDone(server, one.body.request_id)
      assert.strictEqual(done.outcome.outcome, "canceled")
      assert.strictEqual(done.outcome.amount_released, 900)
      assert.strictEqual(done.reason, "dup")
      // The same request again, by derived id and by explicit id: the stored request, no new call.
      const calls = (yield* sandbox.calls).length
      const again = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({ payment_intent_id: a!.payment_intent_id })
        })
      )
      assert.strictEqual(again.status, 202)
      assert.strictEqual(again.body.request_id, one.body.request_id)
      assert.strictEqual(again.body.state, "done")
      assert.isTrue(again.body.resubmitted)
      const batch = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({
            cancellations: [
              { payment_intent_id: b!.payment_intent_id, request_id: "order-77" },
              { payment_intent_id: c!.payment_intent_id }
            ]
          })
        })
      )
      assert.strictEqual(batch.status, 202, batch.text)
      assert.deepStrictEqual(batch.body.request_ids[0], "order-77")
      const b1 = yield* waitDone(server, "order-77")
      assert.strictEqual(b1.outcome.outcome, "canceled")
      const c1 = yield* waitDone(server, batch.body.request_ids[1])
      assert.strictEqual(c1.outcome.outcome, "not_cancelable")
      const conflict = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({ payment_intent_id: c!.payment_intent_id, request_id: "order-77" })
        })
      )
      assert.strictEqual(conflict.status, 409)
      const posts = (yield* sandbox.calls).filter((x) => x.method === "POST" && x.path.includes(a!.payment_intent_id))
      assert.strictEqual(posts.length, 1)
      assert.isAtLeast((yield* sandbox.calls).length, calls)
      const missing = yield* promise(() => server.request("/cancellations/nope"))
      assert.strictEqual(missing.status, 404)
    })
  )

  it.scopedLive("a 409 for a request-id conflict stores nothing of its body, and starts nothing", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 54 })
      const [a, b, c] = yield* sandbox.createIntents([
        { status: "requires_capture" },
        { status: "requires_capture" },
        { status: "requires_capture" }
      ])
      const server = yield* Serve.start(["--store", store()], {
        FLEX_API_KEY: sandbox.apiKey,
        FLEX_BASE_URL: sandbox.url,
        ...fast
      })
      const post = (body: unknown) =>
        promise(() => server.request("/cancellations", { method: "POST", body: JSON.stringify(body) }))
      const first = yield* post({ payment_intent_id: a!.payment_intent_id, request_id: "order-1" })
      assert.strictEqual(first.status, 202, first.text)
      yield* waitDone(server, "order-1")
      // New requests on both sides of the conflicting one.
      const refused = yield* post({
        cancellations: [
          { payment_intent_id: b!.payment_intent_id, request_id: "order-2" },
          { payment_intent_id: c!.payment_intent_id, request_id: "order-1" },
          { payment_intent_id: c!.payment_intent_id }
        ]
      })
      assert.strictEqual(refused.status, 409, refused.text)
      assert.strictEqual(refused.body.error.code, "request_id_conflict")
      assert.include(refused.body.error.message, "nothing was accepted")
      for (const id of ["order-2", `cancel_${c!.payment_intent_id.toLowerCase()}`]) {
        const res = yield* promise(() => server.request(`/cancellations/${id}`))
        assert.strictEqual(res.status, 404, `${id}: ${res.text}`)
      }
      const untouched = (yield* sandbox.calls).filter(
        (call) => call.path.includes(b!.payment_intent_id) || call.path.includes(c!.payment_intent_id)
      )
      assert.deepStrictEqual(untouched, [])
    })
  )

  it.scopedLive("401 without the token, 400 naming the field, 413 over the limit; metrics pass promtool", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 52 })
      const server = yield* Serve.start(["--store", store()], {
        FLEX_API_KEY: sandbox.apiKey,
        FLEX_BASE_URL: sandbox.url
      })
      const post = (body: string, auth = true) =>
        promise(() => server.request("/cancellations", { method: "POST", body, auth }))
      const id = "fpi_01J9M9S346Q3D25VT4F5V37E3S"
      assert.strictEqual((yield* post(JSON.stringify({ payment_intent_id: id }), false)).status, 401)
      const wrong = yield* promise(() =>
        server.request("/cancellations/x", { auth: false, headers: { authorization: "Bearer not-the-token-at-all" } })
      )
      assert.strictEqual(wrong.status, 401)
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["{not json", "JSON"],
        [JSON.stringify({ payment_intent_id: "pi_123" }), "payment_intent_id"],
        [JSON.stringify({ payment_intent_id: id, reasn: "typo" }), "reasn"],
        [JSON.stringify({ payment_intent_id: id, request_id: "has space" }), "request_id"],
        [
          JSON.stringify({ cancellations: [{ payment_intent_id: id }, { payment_intent_id: 42 }] }),
          "cancellations[1].payment_intent_id"
        ],
        [JSON.stringify({ cancellations: [] }), "cancellations"],
        [
          JSON.stringify({ cancellations: Array.from({ length: 1001 }, () => ({ payment_intent_id: id })) }),
          "cancellations"
        ],
        [JSON.stringify([1, 2]), ""],
        // The derived id of another intent (fpi_…3T, not …3S).
        [JSON.stringify({ payment_intent_id: id, request_id: "cancel_fpi_01j9m9s346q3d25vt4f5v37e3t" }), "request_id"],
        [
          JSON.stringify({ cancellations: [{ payment_intent_id: id, request_id: "cancel_x" }] }),
          "cancellations[0].request_id"
        ]
      ]
      for (const [body, field] of cases) {
        const res = yield* post(body)
        assert.strictEqual(res.status, 400, body.slice(0, 60))
        assert.include(res.body.error.message, field, body.slice(0, 60))
      }
      // An intent's own derived id is its request, as when left out.
      const derived = yield* post(
        JSON.stringify({ payment_intent_id: id, request_id: id.toLowerCase().replace("fpi_", "cancel_fpi_") })
      )
      assert.strictEqual(derived.status, 202, derived.text)
      const huge = JSON.stringify({ payment_intent_id: id, reason: "x".repeat(2 * 1024 * 1024) })
      assert.strictEqual((yield* post(huge)).status, 413)
      const metrics = yield* promise(() => fetch(`${server.url}/metrics`).then((r) => r.text()))
      for (const name of [
        "flex_worker_requests_accepted_total",
        "flex_worker_workflows_in_flight",
        "flex_worker_rate_limiter_waits_total"
      ]) {
        assert.include(metrics, `# TYPE ${name}`)
      }
      const health = yield* promise(() => server.request("/healthz", { auth: false }))
      assert.strictEqual(health.status, 200)
      // promtool is Prometheus' own checker; .ci/run installs it. Here it must accept the exposition.
      let promtool = ""
      try {
        promtool = execFileSync("promtool", ["check", "metrics"], { input: metrics, encoding: "utf8" })
      } catch (error: any) {
        if (error.code !== "ENOENT") assert.fail(`promtool rejected /metrics: ${error.stdout}${error.stderr}`)
        console.warn("[not checked] promtool is not installed; .ci/run installs it")
      }
      assert.notInclude(promtool, "error")
    })
  )

  it.scopedLive("a request stored without a workflow (a crash right after the 202) is started by the sweeper", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 53 })
      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const path = store()
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
      // A first run creates the tables; then the request is written the way the API writes it, and no
      // workflow is started for it.
      yield* Effect.scoped(Serve.start(["--store", path], env))
      const db = new Database(path)
      db.prepare(
        "INSERT INTO cancellation_requests (request_id, payment_intent_id, reason, generation, batch, accepted_at) VALUES (?, ?, NULL, 0, NULL, ?)"
      ).run("orphan-1", intent!.payment_intent_id, new Date().toISOString())
      db.close()
      const server = yield* Serve.start(["--store", path], env)
      const done = yield* waitDone(server, "orphan-1")
      assert.strictEqual(done.outcome.outcome, "canceled")
    })
  )

  it.scopedLive(
    "a database fault a retry cannot fix (a constraint of the store refusing the row) is a 500, not a 503",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 55 })
        const [intent] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const path = store()
        const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
        // A first run creates the tables; then every new request is refused by the file itself
        // (SQLITE_CONSTRAINT_TRIGGER): resubmitting would meet the same refusal forever.
        yield* Effect.scoped(Serve.start(["--store", path], env))
        const db = new Database(path)
        db.exec(
          "CREATE TRIGGER refuse_requests BEFORE INSERT ON cancellation_requests BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
        db.close()
        const server = yield* Serve.start(["--store", path], env)
        const refused = yield* promise(() =>
          server.request("/cancellations", {
            method: "POST",
            body: JSON.stringify({ payment_intent_id: intent!.payment_intent_id, request_id: "fault-1" })
          })
        )
        assert.strictEqual(refused.status, 500, refused.text)
        assert.strictEqual(refused.body.error.code, "internal")
        // A generic message: nothing of the SQL, the table or the driver's words.
        for (const secret of ["refused by the test", "cancellation_requests", "INSERT", "SQLITE"]) {
          assert.notInclude(refused.text, secret)
        }
        assert.strictEqual((yield* sandbox.calls).length, 0, "nothing was started")
        // Logged, at error level, for an operator to fix.
        assert.match(server.output().stderr, /"message":"HTTP API request failed","logLevel":"ERROR"/)
      })
  )

  it.live("serve without FLEX_WORKER_API_TOKEN, or with a bad --listen, exits 2 with one line", () =>
    Effect.gen(function* () {
      const noToken = yield* promise(() => Cli.run(["serve", "--store", store()], { FLEX_API_KEY: "fsk_test_x" }))
      assert.strictEqual(noToken.code, 2)
      assert.include(noToken.stderr, "FLEX_WORKER_API_TOKEN")
      const badListen = yield* promise(() =>
        Cli.run(["serve", "--store", store(), "--listen", "nope"], {
          FLEX_API_KEY: "fsk_test_x",
          FLEX_WORKER_API_TOKEN: Serve.token
        })
      )
      assert.strictEqual(badListen.code, 2)
      assert.include(badListen.stderr, "--listen")
    })
  )
})
