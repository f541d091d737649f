/**
 * The floor of a cancellation on this machine: what the worker does for one, with nothing around it.
 * Raw undici POSTs the cancel (with an idempotency key) to the same fast sandbox, `JSON.parse` plus
 * `@flex/domain`'s `Decoder` reads the answer as `FlexClient` does, and better-sqlite3 makes the same
 * writes the worker makes on the embedded engine, each statement prepared once and each in its own
 * transaction (WAL, `synchronous = NORMAL`, as the store): intake (a transaction per 500 requests),
 * the execution, the attempt's marker, the outcome, the step's result, the execution's end. 16 in flight,
 * like the worker's default concurrency. The worker's figures are divided by these.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { Decoder, PaymentIntent } from "@flex/domain"
import { Agent, request } from "undici"
import { stop } from "./child.js"
import { createIntents, startSandbox } from "./worker.js"

// better-sqlite3 is the worker's dependency: loaded from there, the very build the worker runs.
const Database = createRequire(new URL("../../apps/worker/package.json", import.meta.url))("better-sqlite3")

const decode = Decoder.decodeUnknownEither(PaymentIntent.Envelope)

export interface FloorResult {
  readonly intents: number
  readonly cps: number
  readonly cpuMsPerCancel: number
  readonly statementsPerCancel: number
}

export const runFloorBench = async (intents: number, concurrency = 16): Promise<FloorResult> => {
  const dir = mkdtempSync(Path.join(tmpdir(), "flex-bench-floor-"))
  const sandbox = await startSandbox()
  const dispatcher = new Agent({ keepAliveTimeout: 60_000 })
  try {
    const ids = await createIntents(sandbox, intents)
    const db = new Database(Path.join(dir, "floor.sqlite"))
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.exec(`CREATE TABLE requests (request_id TEXT PRIMARY KEY, payment_intent_id TEXT NOT NULL, accepted_at TEXT NOT NULL);
      CREATE TABLE attempts (request_id TEXT, attempt INTEGER, started_at TEXT, PRIMARY KEY (request_id, attempt));
      CREATE TABLE outcomes (request_id TEXT PRIMARY KEY, detail TEXT NOT NULL, recorded_at TEXT NOT NULL);
      CREATE TABLE executions (execution_id TEXT PRIMARY KEY, payload TEXT NOT NULL, status TEXT NOT NULL, result TEXT);
      CREATE TABLE results (execution_id TEXT, key TEXT, exit TEXT, PRIMARY KEY (execution_id, key));`)
    const insertRequest = db.prepare("INSERT INTO requests VALUES (?, ?, ?)")
    const insertExecution = db.prepare("INSERT INTO executions VALUES (?, ?, 'running', NULL) ON CONFLICT DO NOTHING")
    const insertAttempt = db.prepare("INSERT INTO attempts VALUES (?, 1, ?)")
    const insertOutcome = db.prepare("INSERT INTO outcomes VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
    const insertResult = db.prepare("INSERT INTO results VALUES (?, 'a:Cancel/1', ?)")
    const complete = db.prepare("UPDATE executions SET status = 'complete', result = ? WHERE execution_id = ?")
    let statements = 0
    const cpu = process.cpuUsage()
    const now = () => new Date().toISOString()
    const intake = db.transaction((chunk: ReadonlyArray<string>) => {
      for (const id of chunk) insertRequest.run(`r-${id}`, id, now())
    })
    for (let i = 0; i < ids.length; i += 500) {
      intake(ids.slice(i, i + 500))
      statements += Math.min(500, ids.length - i)
    }
    const started = performance.now()
    let next = 0
    const worker = async () => {
      for (;;) {
        const i = next++
        if (i >= ids.length) return
        const id = ids[i]!
        const requestId = `r-${id}`
        insertExecution.run(requestId, JSON.stringify({ requestId, paymentIntentId: id }))
        insertAttempt.run(requestId, now())
        const res = await request(new URL(`/v1/payment_intents/${id}/cancel`, sandbox.url).href, {
          method: "POST",
          headers: { authorization: "Bearer fsk_test_bench", "idempotency-key": requestId },
          dispatcher
        })
        const text = await res.body.text()
        if (res.statusCode !== 200) throw new Error(`floor: cancel answered ${res.statusCode}`)
        const decoded = decode(JSON.parse(text))
        if (decoded._tag === "Left") throw new Error("floor: the cancel response did not decode")
        const detail = JSON.stringify({ _tag: "Canceled", paymentIntentId: id })
        insertOutcome.run(requestId, detail, now())
        insertResult.run(requestId, detail)
        complete.run(detail, requestId)
        statements += 5
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    db.close()
    return {
      intents,
      cps: intents / seconds,
      cpuMsPerCancel: (used.user + used.system) / 1000 / intents,
      statementsPerCancel: statements / intents
    }
  } finally {
    await dispatcher.close()
    await stop(sandbox.child)
    rmSync(dir, { recursive: true, force: true })
  }
}
