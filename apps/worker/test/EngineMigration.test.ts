/**
 * A store made by the cluster engine (the only engine before the embedded one), killed mid-batch, then
 * opened by the current default: its unfinished executions are finished on the cluster engine that
 * started them (neither engine can replay the other's steps), and the next run on it, with nothing of
 * the cluster's left, runs on the embedded engine.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Invariants from "./support/invariants.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const count = (store: string, query: string): number => {
  const db = new Database(store, { readonly: true })
  try {
    const table = /FROM (\w+)/.exec(query)![1]
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)
    return exists === undefined ? 0 : Number((db.prepare(query).get() as { n: number }).n)
  } finally {
    db.close()
  }
}

const clusterUnfinished = (store: string) =>
  count(store, "SELECT COUNT(*) AS n FROM cluster_messages WHERE processed = FALSE AND kind = 0")
const embeddedExecutions = (store: string) => count(store, "SELECT COUNT(*) AS n FROM flex_engine_executions")

describe("a store made by the cluster engine", () => {
  it.scopedLive(
    "killed mid-batch, is finished on the cluster engine, then runs on the embedded one",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({
          seed: 77,
          faults: { default: { latency: { min_ms: 5, max_ms: 20 } }, cancel: { error_rate: 0.1 } }
        })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 80 }, (_, i) => ({
            status: "requires_capture" as const,
            amount: 500 + i,
            capture_method: "manual" as const
          }))
        )
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = mkdtempSync(Path.join(tmpdir(), "flex-migration-"))
        const file = Path.join(work, "ids.txt")
        writeFileSync(file, `${ids.join("\n")}\n`)
        const store = Path.join(work, "w.sqlite")
        const env = {
          FLEX_API_KEY: sandbox.apiKey,
          FLEX_BASE_URL: sandbox.url,
          FLEX_TIMEOUT: "2",
          FLEX_WORKER_BACKOFF_BASE: "20 millis",
          FLEX_WORKER_BACKOFF_MAX: "200 millis"
        }
        const args = ["cancel", "--file", file, "--store", store, "--rate", "100", "--concurrency", "8", "--json"]

        // The current code path before the embedded engine: the cluster engine, killed mid-batch.
        const old = Cli.start(args, { ...env, FLEX_WORKER_ENGINE: "cluster" })
        for (let i = 0; i < 1000 && (yield* sandbox.calls).length < 20; i++) yield* Effect.sleep("10 millis")
        old.child.kill("SIGKILL")
        yield* Effect.promise(() => old.done)
        assert.isAbove(clusterUnfinished(store), 0, "the cluster engine left executions unfinished")

        // The default now: it finishes them on the cluster engine.
        const resumed = yield* Effect.promise(() => Cli.run(args, env))
        assert.strictEqual(resumed.code, 0, resumed.stderr)
        assert.strictEqual(JSON.parse(resumed.stdout).outcomes.canceled, 80)
        assert.strictEqual(clusterUnfinished(store), 0)
        assert.strictEqual(embeddedExecutions(store), 0, "nothing ran on the embedded engine yet")
        const summary = yield* Invariants.check(sandbox, store, ids)
        assert.deepStrictEqual(summary.violations, [])
        assert.strictEqual(summary.outcomes, 80)

        // Nothing of the cluster's left: the next batch on the store runs on the embedded engine.
        const more = yield* sandbox.createIntents(
          Array.from({ length: 5 }, () => ({ status: "requires_capture" as const, capture_method: "manual" as const }))
        )
        const moreFile = Path.join(work, "more.txt")
        writeFileSync(moreFile, `${more.map((pi) => pi.payment_intent_id).join("\n")}\n`)
        const next = yield* Effect.promise(() =>
          Cli.run(["cancel", "--file", moreFile, "--store", store, "--rate", "100", "--json"], env)
        )
        assert.strictEqual(next.code, 0, next.stderr)
        assert.strictEqual(JSON.parse(next.stdout).outcomes.canceled, 5)
        assert.strictEqual(embeddedExecutions(store), 5)
      }),
    120_000
  )
})
