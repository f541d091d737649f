/**
 * The stall watchdog of cluster mode (ClusterWatchdog), on a real runner and a real PostgreSQL
 * database: a message the engine has marked read but is not processing (the state Effect-TS/effect#6248
 * leaves behind) makes `/healthz` say 503 and the runner exit 1, and a restart finishes the request;
 * a busy runner whose messages legitimately stay unprocessed for longer than the threshold does not
 * trip it.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Pg from "./support/pg.js"
import * as Serve from "./support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const health = (server: Serve.Server) =>
  promise(async () => {
    try {
      return await server.request("/healthz", { auth: false })
    } catch {
      return { status: 0, body: undefined, text: "" }
    }
  })

const submit = (server: Serve.Server, ids: ReadonlyArray<string>) =>
  Effect.flatMap(
    promise(() =>
      server.request("/cancellations", {
        method: "POST",
        body: JSON.stringify({ cancellations: ids.map((payment_intent_id) => ({ payment_intent_id })) })
      })
    ),
    (res) => (res.status === 202 ? Effect.succeed(res.body) : Effect.dieMessage(`submit: ${res.status} ${res.text}`))
  )

const outcomeFor = (databaseUrl: string, paymentIntentId: string) =>
  Effect.map(
    Pg.query<{ outcome: string }>(
      databaseUrl,
      "SELECT outcome FROM cancellation_outcomes WHERE payment_intent_id = $1",
      [paymentIntentId]
    ),
    (rows) => rows[0]?.outcome
  )

const runner = (databaseUrl: string, port: number, sandbox: Sandbox.SandboxHandle, env: Record<string, string>) =>
  Serve.start(["--store", databaseUrl, "--runner-address", `127.0.0.1:${port}`, "--rate", "20"], {
    FLEX_API_KEY: sandbox.apiKey,
    FLEX_BASE_URL: sandbox.url,
    FLEX_TIMEOUT: "5",
    FLEX_WORKER_BACKOFF_BASE: "50 millis",
    FLEX_WORKER_BACKOFF_MAX: "500 millis",
    ...env
  })

const watchdogTests = () => {
  it.scopedLive(
    "a due message marked read but not processed: /healthz 503 with the reason, exit 1 with one JSON log line, and a restart finishes it",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 6248 })
        const [victim, ...others] = yield* sandbox.createIntents(
          Array.from({ length: 6 }, () => ({ status: "requires_capture" as const }))
        )
        const port = yield* Pg.freePort
        const first = yield* runner(db.url, port, sandbox, { FLEX_WORKER_STALL_THRESHOLD: "3 seconds" })
        // The runner has created the engine's tables. Its `run` message for the victim is now stored as
        // already read (as by a read whose result was lost when the database went away): the engine
        // skips it for 10 minutes, and nothing else is wrong with it.
        yield* Pg.query(
          db.url,
          `CREATE FUNCTION flex_test_lost_read() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN NEW.last_read := NOW(); RETURN NEW; END $$`
        )
        yield* Pg.query(
          db.url,
          `CREATE TRIGGER flex_test_lost_read BEFORE INSERT ON cluster_messages FOR EACH ROW
           WHEN (NEW.kind = 0 AND NEW.tag = 'run' AND NEW.payload LIKE '%${victim!.payment_intent_id}%')
           EXECUTE FUNCTION flex_test_lost_read()`
        )
        const submittedAt = Date.now()
        yield* submit(first, [victim!.payment_intent_id, ...others.map((pi) => pi.payment_intent_id)])
        // The others finish; the victim's workflow never starts.
        for (const pi of others) {
          for (let i = 0; i < 80 && (yield* outcomeFor(db.url, pi.payment_intent_id)) === undefined; i++) {
            yield* Effect.sleep("100 millis")
          }
        }
        assert.isUndefined(yield* outcomeFor(db.url, victim!.payment_intent_id))

        let unhealthy: { status: number; body: any } | undefined
        for (let i = 0; i < 150 && unhealthy === undefined; i++) {
          const res = yield* health(first)
          if (res.status === 503) unhealthy = res
          else yield* Effect.sleep("100 millis")
        }
        assert.isDefined(unhealthy, "/healthz never said 503")
        const detectedAfter = (Date.now() - submittedAt) / 1000
        assert.strictEqual(unhealthy!.body.engine, "stalled")
        assert.strictEqual(unhealthy!.body.database, "up")
        assert.match(unhealthy!.body.reason, /1 due message\(s\) on 1 of this runner's shards/)
        // Not before the threshold (3 s) plus the confirmation window (2 s).
        assert.isAtLeast(detectedAfter, 5)

        const exit = yield* promise(() => first.done)
        assert.strictEqual(exit.code, 1, exit.stderr)
        const lines = exit.stderr.split("\n").filter((l) => l.includes("cluster stall"))
        const json = lines.filter((l) => l.startsWith("{"))
        assert.strictEqual(json.length, 1, exit.stderr)
        const logged = JSON.parse(json[0]!)
        assert.strictEqual(logged.logLevel, "ERROR")
        assert.strictEqual(logged.annotations.event, "cluster_stall")
        assert.strictEqual(logged.annotations.stalled_messages, 1)
        assert.strictEqual(logged.annotations.threshold_seconds, 3)
        assert.match(exit.stderr, /^flex-worker: cluster stall: /m)

        // The supervisor starts it again: acquiring its shards resets their messages, and the victim ends.
        yield* Pg.query(db.url, "DROP TRIGGER flex_test_lost_read ON cluster_messages")
        const restartedAt = Date.now()
        const second = yield* runner(db.url, port, sandbox, { FLEX_WORKER_STALL_THRESHOLD: "3 seconds" })
        let outcome: string | undefined
        for (let i = 0; i < 300 && outcome === undefined; i++) {
          outcome = yield* outcomeFor(db.url, victim!.payment_intent_id)
          if (outcome === undefined) yield* Effect.sleep("100 millis")
        }
        assert.strictEqual(outcome, "Canceled")
        assert.strictEqual((yield* health(second)).status, 200)
        console.log(
          `stall watchdog: 503 and exit 1 ${detectedAfter.toFixed(1)} s after the stalled submit (threshold 3 s); ` +
            `after the restart the request finished in ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`
        )
      }),
    120_000
  )

  it.scopedLive(
    "a busy runner does not trip it: rate-limited backlog, in-memory backoff and durable sleeps far past the threshold",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        // A third of the cancels fail with 5xx: those requests back off 50 to 100 s, in memory below 60 s
        // (an activity that sleeps) and as a durable DurableClock wake-up above (future deliver_at).
        const sandbox = yield* Sandbox.start({
          seed: 6249,
          faults: { default: { latency: { min_ms: 10, max_ms: 30 } }, cancel: { error_rate: 0.33 } }
        })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 40 }, () => ({ status: "requires_capture" as const }))
        )
        const port = yield* Pg.freePort
        const server = yield* Serve.start(["--store", db.url, "--runner-address", `127.0.0.1:${port}`, "--rate", "4"], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          FLEX_TIMEOUT: "5",
          FLEX_WORKER_BACKOFF_BASE: "100 seconds",
          FLEX_WORKER_BACKOFF_MAX: "100 seconds",
          FLEX_WORKER_STALL_THRESHOLD: "2 seconds"
        })
        yield* submit(
          server,
          intents.map((pi) => pi.payment_intent_id)
        )
        let oldReads = 0
        let futureWakeUps = 0
        const statuses = new Set<number>()
        const until = Date.now() + 20_000
        while (Date.now() < until) {
          statuses.add((yield* health(server)).status)
          const [row] = yield* Pg.query<{ old_reads: number; future: number }>(
            db.url,
            `SELECT
               COUNT(*) FILTER (WHERE kind = 0 AND NOT processed AND last_read < NOW() - INTERVAL '2 seconds')::int AS old_reads,
               COUNT(*) FILTER (WHERE NOT processed AND deliver_at > $1)::int AS future
             FROM cluster_messages`,
            [Date.now()]
          )
          oldReads = Math.max(oldReads, row!.old_reads)
          futureWakeUps = Math.max(futureWakeUps, row!.future)
          yield* Effect.sleep("500 millis")
        }
        const [done] = yield* Pg.query<{ n: number }>(db.url, "SELECT COUNT(*)::int AS n FROM cancellation_outcomes")
        // What makes the test mean something: the database alone would have called these stalled.
        assert.isAtLeast(oldReads, 10, "messages unprocessed and read more than 2 s ago (work in progress)")
        assert.isAtLeast(futureWakeUps, 1, "durable wake-ups not due yet")
        assert.isAtLeast(done!.n, 10, "requests finished meanwhile")
        assert.deepStrictEqual([...statuses], [200], "/healthz said 200 throughout")
        assert.isNull(server.child.exitCode, server.output().stderr)
        assert.notInclude(server.output().stderr, "cluster stall")
        const metrics = yield* promise(() => server.request("/metrics", { auth: false }))
        assert.match(metrics.text, /^flex_worker_stalled_message_age_seconds 0$/m)
        console.log(
          `stall watchdog, busy runner: up to ${oldReads} messages in progress read more than 2 s before, ` +
            `${futureWakeUps} durable wake-ups pending, ${done!.n} outcomes in 20 s; /healthz 200 throughout`
        )
      }),
    120_000
  )
}

if (Pg.url !== undefined) {
  describe("cluster mode: the stall watchdog", watchdogTests)
} else {
  describe("cluster mode: the stall watchdog", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}
