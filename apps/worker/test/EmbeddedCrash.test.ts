/**
 * kill -9 at the embedded engine's three dangerous points, in real child processes on real SQLite
 * files (`support/engineProbe.mjs` runs the built engine with the store's lock and client): inside an
 * activity, between an activity's write and the engine storing its result, and inside a durable sleep.
 * After each, a new process on the same store finishes the execution from where it stood.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Process from "./support/process.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const probe = fileURLToPath(new URL("./support/engineProbe.mjs", import.meta.url))

const storeFile = () => Path.join(mkdtempSync(Path.join(tmpdir(), "flex-embedded-crash-")), "w.sqlite")

interface Logged {
  readonly step: string
  readonly key: string
  readonly pid: number
  readonly at: number
}

const read = <A>(store: string, query: string): Array<A> => {
  const db = new Database(store, { readonly: true })
  try {
    return db.prepare(query).all() as Array<A>
  } finally {
    db.close()
  }
}

const logged = (store: string) => read<Logged>(store, "SELECT step, key, pid, at FROM probe_log ORDER BY rowid")

/** The restart: a process that runs the probe to its end. */
const finish = (store: string) =>
  Effect.gen(function* () {
    const result = yield* Process.run([probe, store, "run"], { timeoutMs: 60_000 })
    assert.strictEqual(result.code, 0, result.stderr)
    return /done (\S+)/.exec(result.stdout)?.[1]
  })

/** Waits (by events: the child's output, or rows in the store) until `ready`, then kill -9. */
const killWhen = (running: Process.Running, ready: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 3000 && !ready() && running.child.exitCode === null; i++) yield* Effect.sleep("10 millis")
    assert.isTrue(ready(), `never got there: ${running.output().stderr}`)
    running.child.kill("SIGKILL")
    const result = yield* Effect.promise(() => running.done)
    assert.strictEqual(result.signal, "SIGKILL")
  })

describe("kill -9 on the embedded engine", () => {
  it.scopedLive(
    "inside an activity: the next process runs it again, same attempt, same idempotency key",
    () =>
      Effect.gen(function* () {
        const store = storeFile()
        const first = Process.node([probe, store, "inside-activity"])
        yield* killWhen(first, () => first.output().stdout.includes("hanging"))
        const key = yield* finish(store)
        const rows = logged(store)
        assert.deepStrictEqual(
          rows.map((r) => r.step),
          ["write", "write", "after"]
        )
        assert.strictEqual(rows[0]!.key, rows[1]!.key)
        assert.strictEqual(key, rows[0]!.key)
        assert.notStrictEqual(rows[0]!.pid, rows[1]!.pid)
      }),
    90_000
  )

  it.scopedLive(
    "between an activity's write and its stored result: the write stands, the activity runs again with its key",
    () =>
      Effect.gen(function* () {
        const store = storeFile()
        // It kills itself right after the activity's row is committed.
        const first = yield* Process.run([probe, store, "after-write"], { timeoutMs: 60_000 })
        assert.strictEqual(first.signal, "SIGKILL", first.stderr)
        assert.deepStrictEqual(
          logged(store).map((r) => r.step),
          ["write"]
        )
        assert.deepStrictEqual(
          read<{ n: number }>(store, "SELECT COUNT(*) AS n FROM flex_engine_results").map((r) => r.n),
          [0]
        )
        const key = yield* finish(store)
        const rows = logged(store)
        assert.deepStrictEqual(
          rows.map((r) => r.step),
          ["write", "write", "after"]
        )
        assert.strictEqual(rows[0]!.key, rows[1]!.key)
        assert.strictEqual(key, rows[0]!.key)
      }),
    90_000
  )

  it.scopedLive(
    "inside a durable sleep: the activity before it is not run again, and the sleep ends at its stored time",
    () =>
      Effect.gen(function* () {
        const store = storeFile()
        // A 10-minute nap: the kill lands inside it however slow the machine is.
        const first = Process.node([probe, store, "run", "600000"])
        const clock = () => {
          try {
            return read<{ wake_at: number }>(store, "SELECT wake_at FROM flex_engine_clocks")
          } catch {
            return []
          }
        }
        yield* killWhen(first, () => clock().length === 1)
        assert.isAbove(clock()[0]!.wake_at, Date.now() + 60_000, "the stored wake-up is the nap's")
        assert.deepStrictEqual(
          logged(store).map((r) => r.step),
          ["write"]
        )
        // Time passes while the process is down: the stored wake-up is now 2 s away. The restart runs the
        // same workflow (a 10-minute nap in its code): it must wake at the stored time, not set a fresh
        // 10 minutes (the test would time out), and not before it.
        const wakeAt = Date.now() + 2_000
        const db = new Database(store)
        db.prepare("UPDATE flex_engine_clocks SET wake_at = ?").run(wakeAt)
        db.close()
        const key = yield* Effect.gen(function* () {
          const result = yield* Process.run([probe, store, "run", "600000"], { timeoutMs: 60_000 })
          assert.strictEqual(result.code, 0, `${result.signal ?? ""} ${result.stderr}`)
          return /done (\S+)/.exec(result.stdout)?.[1]
        })
        const rows = logged(store)
        assert.deepStrictEqual(
          rows.map((r) => r.step),
          ["write", "after"]
        )
        assert.strictEqual(key, rows[0]!.key)
        // Not woken before the time stored for the clock.
        assert.isAtLeast(rows[1]!.at, wakeAt)
        // Finished: only the execution's row and result are left.
        assert.deepStrictEqual(
          read<{ status: string }>(store, "SELECT status FROM flex_engine_executions").map((r) => r.status),
          ["complete"]
        )
        assert.deepStrictEqual(clock(), [])
      }),
    90_000
  )
})
