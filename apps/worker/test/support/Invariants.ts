/**
 * The "nothing lost" checker (ANCHORS §4.4) over the worker's outcome store and the sandbox's call log
 * and state. Each function returns a list of violations; an empty list is a pass.
 */
import type { Sandbox } from "@flex/sandbox"
import Database from "better-sqlite3"
import { Effect, Option } from "effect"

export interface OutcomeRow {
  readonly request_id: string
  readonly payment_intent_id: string
  readonly outcome: string
  readonly amount_released: number
}

export const readOutcomes = (store: string): ReadonlyArray<OutcomeRow> => {
  const db = new Database(store, { readonly: true, fileMustExist: true })
  try {
    return db
      .prepare("SELECT request_id, payment_intent_id, outcome, amount_released FROM cancellation_outcomes")
      .all() as Array<OutcomeRow>
  } finally {
    db.close()
  }
}

export interface Summary {
  readonly requested: number
  readonly outcomes: number
  readonly lost: ReadonlyArray<string>
  readonly phantom: ReadonlyArray<string>
  readonly duplicates: number
  readonly violations: ReadonlyArray<string>
}

/** Checks invariants 1, 2, 3 and 5 for the given requested intent ids. */
export const check = (sandbox: Sandbox.SandboxHandle, store: string, requested: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const violations: Array<string> = []
    const rows = readOutcomes(store)
    const wanted = new Set(requested.map((id) => id.toLowerCase()))
    const byIntent = new Map<string, Array<OutcomeRow>>()
    for (const row of rows) {
      const key = row.payment_intent_id.toLowerCase()
      byIntent.set(key, [...(byIntent.get(key) ?? []), row])
    }
    // 1. Every request has exactly one outcome.
    const lost = [...wanted].filter((id) => (byIntent.get(id)?.length ?? 0) === 0)
    for (const [id, list] of byIntent) if (list.length > 1) violations.push(`${id}: ${list.length} outcomes`)
    if (lost.length > 0) violations.push(`lost: ${lost.length} requests without an outcome`)
    // 2. No cancel reached the sandbox for an intent nobody requested.
    const calls = yield* sandbox.calls
    const cancels = calls.filter((c) => c.method === "POST" && c.path.endsWith("/cancel"))
    const intentOf = (path: string) => path.split("/")[3]!.toLowerCase()
    const phantom = [...new Set(cancels.map((c) => intentOf(c.path)).filter((id) => !wanted.has(id)))]
    if (phantom.length > 0) violations.push(`phantom cancels for ${phantom.join(", ")}`)
    // 3. Repeated cancels of one request carry one idempotency key.
    let duplicates = 0
    const keys = new Map<string, Set<string | null>>()
    for (const c of cancels) {
      const id = intentOf(c.path)
      keys.set(id, (keys.get(id) ?? new Set()).add(c.idempotency_key))
    }
    for (const [id, set] of keys) {
      const count = cancels.filter((c) => intentOf(c.path) === id).length
      duplicates += count - 1
      if (set.size > 1) violations.push(`${id}: ${set.size} different idempotency keys`)
      if (set.has(null)) violations.push(`${id}: a cancel without an idempotency key`)
    }
    // 5. Outcomes match the world, and the released amounts add up.
    let recordedReleased = 0
    let sandboxReleased = 0
    for (const row of rows) {
      const intent = yield* sandbox.intent(row.payment_intent_id)
      const status = Option.match(intent, { onNone: () => "missing", onSome: (i) => i.status })
      if ((row.outcome === "Canceled" || row.outcome === "AlreadyCanceled") && status !== "canceled") {
        violations.push(`${row.payment_intent_id}: recorded ${row.outcome} but the intent is ${status}`)
      }
      if (row.outcome === "Canceled") {
        recordedReleased += Number(row.amount_released)
        sandboxReleased += Option.getOrElse(yield* sandbox.released(row.payment_intent_id), () => 0)
      }
    }
    if (recordedReleased !== sandboxReleased) {
      violations.push(`released ${recordedReleased} recorded, ${sandboxReleased} at the sandbox`)
    }
    return { requested: wanted.size, outcomes: rows.length, lost, phantom, duplicates, violations } satisfies Summary
  })
