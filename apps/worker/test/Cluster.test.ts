import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Pg from "./support/pg.js"
import * as Serve from "./support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
// The stall watchdog (ClusterWatchdog) at a tight threshold: failover, handover and a busy cluster must
// not trip it (a tripped runner exits 1, which the tests below check for).
const fast = {
  FLEX_WORKER_BACKOFF_BASE: "50 millis",
  FLEX_WORKER_BACKOFF_MAX: "500 millis",
  FLEX_TIMEOUT: "5",
  FLEX_WORKER_STALL_THRESHOLD: "5 seconds"
}

/** The runner is still up, and its watchdog never reported a stall. */
const notStalled = (server: Serve.Server) => {
  assert.isNull(server.child.exitCode, `${server.output().stderr.slice(-2000)}`)
  assert.notInclude(server.output().stderr, "cluster stall")
}

interface Runner extends Serve.Server {
  readonly address: string
}

const runners = (n: number, databaseUrl: string, sandbox: Sandbox.SandboxHandle, rate: number) =>
  Effect.forEach(Array.from({ length: n }), () =>
    Effect.flatMap(Pg.freePort, (port) => {
      const address = `127.0.0.1:${port}`
      return Effect.map(
        Serve.start(["--store", databaseUrl, "--runner-address", address, "--rate", String(rate)], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          ...fast
        }),
        (server): Runner => ({ ...server, address })
      )
    })
  )

const submit = (server: Serve.Server, ids: ReadonlyArray<string>) =>
  Effect.forEach(
    Array.from({ length: Math.ceil(ids.length / 250) }, (_, i) => ids.slice(i * 250, i * 250 + 250)),
    (chunk) =>
      Effect.flatMap(
        promise(() =>
          server.request("/cancellations", {
            method: "POST",
            body: JSON.stringify({ cancellations: chunk.map((payment_intent_id) => ({ payment_intent_id })) })
          })
        ),
        (res) => (res.status === 202 ? Effect.void : Effect.dieMessage(`submit: ${res.status} ${res.text}`))
      )
  )

const outcomes = (databaseUrl: string) =>
  Pg.query<{
    request_id: string
    payment_intent_id: string
    outcome: string
    recorded_by: string
    recorded_at: string
  }>(databaseUrl, "SELECT request_id, payment_intent_id, outcome, recorded_by, recorded_at FROM cancellation_outcomes")

const waitForOutcomes = (databaseUrl: string, n: number, seconds: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < seconds * 4; i++) {
      const [row] = yield* Pg.query<{ n: string }>(databaseUrl, "SELECT COUNT(*) AS n FROM cancellation_outcomes")
      if (Number(row!.n) >= n) return
      yield* Effect.sleep("250 millis")
    }
    return yield* Effect.dieMessage(`fewer than ${n} outcomes after ${seconds} s`)
  })

/** The most calls the sandbox saw in any one-second window. */
const maxPerSecond = (sandbox: Sandbox.SandboxHandle) =>
  Effect.map(sandbox.calls, (calls) => {
    const times = calls.map((c) => Date.parse(c.at)).sort((a, b) => a - b)
    let worst = 0
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++
      worst = Math.max(worst, i - j + 1)
    }
    return worst
  })

const clusterTests = () => {
  it.scopedLive(
    "three runners: 1,000 cancellations through one API end in one outcome each, spread over the runners, within the shared rate",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 61 })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 1000 }, () => ({ status: "requires_capture" as const }))
        )
        const rate = 150
        const all = yield* runners(3, db.url, sandbox, rate)
        const first = all[0]
        const ids = intents.map((pi) => pi.payment_intent_id)
        const started = Date.now()
        yield* submit(first!, ids)
        yield* waitForOutcomes(db.url, 1000, 150)
        const rows = yield* outcomes(db.url)
        assert.strictEqual(rows.length, 1000)
        assert.strictEqual(new Set(rows.map((r) => r.request_id)).size, 1000)
        assert.isTrue(rows.every((r) => r.outcome === "Canceled"))
        const perRunner = new Map<string, number>()
        for (const r of rows) perRunner.set(r.recorded_by, (perRunner.get(r.recorded_by) ?? 0) + 1)
        assert.isAtLeast(perRunner.size, 2, `work spread over runners: ${JSON.stringify([...perRunner])}`)
        for (const runner of all) notStalled(runner)
        const cancels = (yield* sandbox.calls).filter((c) => c.path.endsWith("/cancel"))
        assert.strictEqual(cancels.length, 1000, "one cancel call per request")
        const worst = yield* maxPerSecond(sandbox)
        // The same 20 % tolerance for scheduling jitter as below (here the limit rarely binds).
        assert.isAtMost(worst, Math.ceil(rate * 1.2), `at most ${worst} calls in one second across the three runners`)
        console.log(
          `cluster: 1000 cancellations on 3 runners in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
            `per runner ${JSON.stringify(Object.fromEntries(perRunner))}, max ${worst} calls/s at --rate ${rate}`
        )
      }),
    240_000
  )

  it.scopedLive(
    "the rate limit holds across three runners when it binds",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 64 })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 200 }, () => ({ status: "requires_capture" as const }))
        )
        const rate = 25
        const [first] = yield* runners(3, db.url, sandbox, rate)
        yield* submit(
          first!,
          intents.map((pi) => pi.payment_intent_id)
        )
        yield* waitForOutcomes(db.url, 200, 120)
        const worst = yield* maxPerSecond(sandbox)
        // Slots are spaced 1/rate apart by the database's clock; what the sandbox sees also carries each
        // runner's scheduling jitter (three runners and the test share two cores), hence a tolerance of
        // 20 %. And the limit did bind, or the test would prove nothing.
        assert.isAtMost(worst, Math.ceil(rate * 1.2), `at most ${worst} calls in one second`)
        assert.isAtLeast(worst, rate - 5, `the limit was reached (${worst} calls in the busiest second)`)
        console.log(
          `shared rate limit: at --rate ${rate} on 3 runners the sandbox saw at most ${worst} calls in a second`
        )
      }),
    180_000
  )

  it.scopedLive(
    "kill -9 of the runner holding work mid-batch: the others finish everything",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 62, faults: { default: { latency: { min_ms: 40, max_ms: 60 } } } })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 240 }, () => ({ status: "requires_capture" as const }))
        )
        const servers = yield* runners(3, db.url, sandbox, 40)
        yield* submit(
          servers[0]!,
          intents.map((pi) => pi.payment_intent_id)
        )
        yield* waitForOutcomes(db.url, 30, 60)
        // The runner that has recorded the most so far holds work: kill it.
        const byRunner = new Map<string, number>()
        for (const r of yield* outcomes(db.url)) byRunner.set(r.recorded_by, (byRunner.get(r.recorded_by) ?? 0) + 1)
        const busiest = [...byRunner].sort((a, b) => b[1] - a[1])[0]![0]
        const victim = servers.find((s) => s.address === busiest) ?? servers[1]!
        const inFlight = yield* Pg.query<{ request_id: string }>(
          db.url,
          `SELECT DISTINCT a.request_id FROM cancellation_attempts a
           WHERE NOT EXISTS (SELECT 1 FROM cancellation_outcomes o WHERE o.request_id = a.request_id)`
        )
        const killedAt = Date.now()
        victim.child.kill("SIGKILL")
        yield* waitForOutcomes(db.url, 240, 180)
        const rows = yield* outcomes(db.url)
        assert.strictEqual(rows.length, 240)
        assert.strictEqual(new Set(rows.map((r) => r.request_id)).size, 240)
        const pendingAtKill = new Set(inFlight.map((r) => r.request_id))
        const resumed = rows
          .filter((r) => pendingAtKill.has(r.request_id))
          .map((r) => Date.parse(r.recorded_at) - killedAt)
        const failover = Math.max(0, ...resumed) / 1000
        const after = rows.filter((r) => Date.parse(r.recorded_at) > killedAt)
        assert.isTrue(
          after.every((r) => r.recorded_by !== victim.address),
          "nothing recorded by the dead runner"
        )
        for (const survivor of servers.filter((s) => s !== victim)) notStalled(survivor)
        // Every intent is canceled at the sandbox, and each was cancelled with one key only.
        const cancels = (yield* sandbox.calls).filter((c) => c.path.endsWith("/cancel"))
        const keys = new Map<string, Set<string | null>>()
        for (const c of cancels) keys.set(c.path, (keys.get(c.path) ?? new Set()).add(c.idempotency_key))
        for (const [path, set] of keys) assert.strictEqual(set.size, 1, path)
        console.log(
          `failover: kill -9 of ${victim.address} with ${pendingAtKill.size} requests in flight; ` +
            `the last of them finished ${failover.toFixed(1)} s after the kill`
        )
      }),
    300_000
  )

  it.scopedLive(
    "SIGTERM: a stopping runner exits 143 and hands its shards over; the other finishes everything",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const sandbox = yield* Sandbox.start({ seed: 65, faults: { default: { latency: { min_ms: 40, max_ms: 60 } } } })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 150 }, () => ({ status: "requires_capture" as const }))
        )
        const servers = yield* runners(2, db.url, sandbox, 30)
        yield* submit(
          servers[0]!,
          intents.map((pi) => pi.payment_intent_id)
        )
        yield* waitForOutcomes(db.url, 20, 60)
        const inFlight = yield* Pg.query<{ request_id: string }>(
          db.url,
          `SELECT DISTINCT a.request_id FROM cancellation_attempts a
           WHERE NOT EXISTS (SELECT 1 FROM cancellation_outcomes o WHERE o.request_id = a.request_id)`
        )
        const stoppedAt = Date.now()
        servers[1]!.child.kill("SIGTERM")
        const exit = yield* promise(() => servers[1]!.done)
        assert.strictEqual(exit.code, 143, exit.stderr)
        yield* waitForOutcomes(db.url, 150, 120)
        const rows = yield* outcomes(db.url)
        assert.strictEqual(new Set(rows.map((r) => r.request_id)).size, 150)
        notStalled(servers[0]!)
        const pending = new Set(inFlight.map((r) => r.request_id))
        const handover = Math.max(
          0,
          ...rows.filter((r) => pending.has(r.request_id)).map((r) => Date.parse(r.recorded_at) - stoppedAt)
        )
        console.log(
          `handover: SIGTERM of ${servers[1]!.address} with ${pending.size} requests in flight; ` +
            `the last of them finished ${(handover / 1000).toFixed(1)} s later`
        )
      }),
    240_000
  )

  it.scopedLive(
    "/healthz answers 503 while the runner's database is unreachable, 200 again when it is back",
    () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const proxy = yield* Pg.proxy
        const sandbox = yield* Sandbox.start({ seed: 63 })
        const port = yield* Pg.freePort
        const server = yield* Serve.start(["--store", proxy.urlFor(db.name), "--runner-address", `127.0.0.1:${port}`], {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          FLEX_WORKER_STALL_THRESHOLD: "5 seconds"
        })
        assert.strictEqual((yield* promise(() => server.request("/healthz", { auth: false }))).status, 200)
        proxy.cut()
        const down = yield* promise(() => server.request("/healthz", { auth: false }))
        assert.strictEqual(down.status, 503)
        assert.strictEqual(down.body.database, "unreachable")
        proxy.restore()
        let status = 0
        for (let i = 0; i < 40 && status !== 200; i++) {
          yield* Effect.sleep("250 millis")
          status = (yield* promise(() => server.request("/healthz", { auth: false }))).status
        }
        assert.strictEqual(status, 200)
        notStalled(server)
      }),
    120_000
  )
}

if (Pg.url !== undefined) {
  describe("flex-worker serve: cluster mode on PostgreSQL", clusterTests)
} else {
  describe("flex-worker serve: cluster mode on PostgreSQL", () => {
    it.skip(`skipped: ${Pg.skipReason}`, () => {})
  })
}
