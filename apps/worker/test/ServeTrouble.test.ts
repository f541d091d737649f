/**
 * `flex-worker serve` on PostgreSQL under trouble: the database unreachable while requests come in, two
 * runners given the same new request id at the same moment, and the runner's own stop (clean, quiet).
 * Real PostgreSQL (FLEX_TEST_DATABASE_URL); the outage is a TCP proxy the test cuts, never the server.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Pg from "./support/pg.js"
import * as Serve from "./support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const fast = { FLEX_WORKER_BACKOFF_BASE: "50 millis", FLEX_WORKER_BACKOFF_MAX: "500 millis", FLEX_TIMEOUT: "5" }

/** `POST /cancellations` with the status, the Retry-After header and the body. */
const post = (server: Serve.Server, body: unknown) =>
  promise(async () => {
    const response = await fetch(`${server.url}/cancellations`, {
      method: "POST",
      headers: { authorization: `Bearer ${Serve.token}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: (await response.json()) as any
    }
  })

const troubleTests = () => {
  it.scopedLive(
    "POST /cancellations while the database is unreachable: 503 with Retry-After, then 202 once it is back",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const proxy = yield* Pg.proxy
        const sandbox = yield* Sandbox.start({ seed: 71 })
        const [a, b] = yield* sandbox.createIntents([{ status: "requires_capture" }, { status: "requires_capture" }])
        const port = yield* Pg.freePort
        const server = yield* Serve.start(["--store", proxy.urlFor(db.name), "--runner-address", `127.0.0.1:${port}`], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          ...fast
        })
        const before = yield* post(server, { payment_intent_id: a!.payment_intent_id })
        assert.strictEqual(before.status, 202)
        proxy.cut()
        const during = yield* post(server, { payment_intent_id: b!.payment_intent_id, request_id: "outage-1" })
        assert.strictEqual(during.status, 503, JSON.stringify(during.body))
        assert.strictEqual(during.retryAfter, "5")
        assert.strictEqual(during.body.error.code, "database_unavailable")
        proxy.restore()
        // The pool reconnects on its own: the same submission is taken once the database answers again.
        let after = yield* post(server, { payment_intent_id: b!.payment_intent_id, request_id: "outage-1" })
        for (let i = 0; i < 40 && after.status === 503; i++) {
          yield* Effect.sleep("250 millis")
          after = yield* post(server, { payment_intent_id: b!.payment_intent_id, request_id: "outage-1" })
        }
        assert.strictEqual(after.status, 202, JSON.stringify(after.body))
        assert.strictEqual(after.body.request_id, "outage-1")
        assert.notInclude(server.output().stderr, 'HTTP API request failed"')
      }),
    120_000
  )

  it.scopedLive(
    "a database fault a retry cannot fix (a CHECK constraint refusing the row) is a 500 without SQL, not a 503",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 74 })
        const [a] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const port = yield* Pg.freePort
        const server = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${port}`], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          ...fast
        })
        // Every new request now violates a constraint (23514): resubmitting would meet it forever.
        yield* Pg.query(
          db.url,
          "ALTER TABLE cancellation_requests ADD CONSTRAINT refused_by_the_test CHECK (false) NOT VALID"
        )
        const refused = yield* post(server, { payment_intent_id: a!.payment_intent_id, request_id: "fault-1" })
        assert.strictEqual(refused.status, 500, JSON.stringify(refused.body))
        assert.strictEqual(refused.retryAfter, null)
        assert.strictEqual(refused.body.error.code, "internal")
        const text = JSON.stringify(refused.body)
        for (const secret of ["refused_by_the_test", "cancellation_requests", "INSERT", "23514", db.name]) {
          assert.notInclude(text, secret)
        }
        assert.match(server.output().stderr, /"message":"HTTP API request failed","logLevel":"ERROR"/)
      }),
    120_000
  )

  it.scopedLive(
    "a submit that loses the unique-key race (23505, forced once by a trigger) is retried and stored: 202",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 75 })
        const [a] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const port = yield* Pg.freePort
        const server = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${port}`], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          ...fast
        })
        // The race, made certain: the first insert of a request fails as if another runner had just
        // stored the same id (a sequence is not rolled back with the failed transaction, so only once).
        yield* Pg.query(
          db.url,
          `CREATE SEQUENCE race_once;
           CREATE FUNCTION lose_the_race() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF nextval('race_once') = 1 THEN
               RAISE EXCEPTION 'duplicate key value violates unique constraint' USING ERRCODE = 'unique_violation';
             END IF;
             RETURN NEW;
           END $$;
           CREATE TRIGGER lose_the_race BEFORE INSERT ON cancellation_requests
             FOR EACH ROW EXECUTE FUNCTION lose_the_race();`
        )
        const answer = yield* post(server, { payment_intent_id: a!.payment_intent_id, request_id: "race-once" })
        assert.strictEqual(answer.status, 202, JSON.stringify(answer.body))
        assert.strictEqual(answer.body.request_id, "race-once")
        const lost = yield* Pg.query(db.url, "SELECT last_value::int AS n FROM race_once")
        assert.isAtLeast(lost[0].n, 2, "the insert failed once and ran again")
        const rows = yield* Pg.query(db.url, "SELECT COUNT(*)::int AS n FROM cancellation_requests")
        assert.strictEqual(rows[0].n, 1)
      }),
    120_000
  )

  it.scopedLive(
    "two runners given the same new request id at once: one 202 new, one 202 resubmitted, never a 500",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 72 })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 20 }, () => ({ status: "requires_capture" as const }))
        )
        const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
        const [p1, p2] = [yield* Pg.freePort, yield* Pg.freePort]
        const one = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${p1}`], env)
        const two = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${p2}`], env)
        // Each request id goes to both runners at the same moment; both find it absent and both insert.
        const answers = yield* Effect.forEach(
          intents,
          (intent, i) => {
            const body = { payment_intent_id: intent.payment_intent_id, request_id: `race-${i}` }
            return Effect.all([post(one, body), post(two, body)], { concurrency: 2 })
          },
          { concurrency: 4 }
        )
        for (const [x, y] of answers) {
          assert.deepStrictEqual([x.status, y.status], [202, 202], JSON.stringify([x.body, y.body]))
          assert.deepStrictEqual(
            [x.body.resubmitted, y.body.resubmitted].sort(),
            [false, true],
            JSON.stringify([x.body, y.body])
          )
        }
        const rows = yield* Pg.query(db.url, "SELECT COUNT(*)::int AS n FROM cancellation_requests")
        assert.strictEqual(rows[0].n, intents.length)
      }),
    180_000
  )

  it.scopedLive(
    "a runner with nothing in flight stops on SIGTERM: exit 143, its shards released, no engine noise",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 73 })
        const [a] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const env = {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          FLEX_WORKER_LOG_LEVEL: "warning",
          ...fast
        }
        const [p1, p2] = [yield* Pg.freePort, yield* Pg.freePort]
        const one = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${p1}`], env)
        const two = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${p2}`], env)
        const submitted = yield* post(one, { payment_intent_id: a!.payment_intent_id })
        assert.strictEqual(submitted.status, 202)
        let state = ""
        while (state !== "done") {
          yield* Effect.sleep("100 millis")
          state = (yield* promise(() => one.request(`/cancellations/${submitted.body.request_id}`))).body.state
        }
        // Both stop with nothing in flight, one after the other: the second takes the first one's shards
        // over as it stops (where pg's queued-query deprecation and the cluster's "No healthy runners"
        // warnings used to appear), then stops itself.
        for (const runner of [one, two]) {
          runner.child.kill("SIGTERM")
          const result = yield* promise(() => runner.done)
          assert.strictEqual(result.code, 143, result.stderr)
          assert.strictEqual(
            result.stderr,
            "flex-worker: SIGTERM: stopping; no new calls go to Flex, waiting for those on the wire\n" +
              "flex-worker: interrupted (SIGTERM); pending requests resume on the next start\n"
          )
        }
        // Their sessions are gone with their advisory locks: nothing of either runner holds a shard.
        const locks = yield* Pg.query(
          Pg.url!,
          "SELECT COUNT(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1",
          [db.name]
        )
        assert.strictEqual(locks[0].n, 0)
      }),
    120_000
  )
}

if (Pg.url !== undefined) {
  describe("flex-worker serve on PostgreSQL under trouble", troubleTests)
} else {
  describe("flex-worker serve on PostgreSQL under trouble", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}
