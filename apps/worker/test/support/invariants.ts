/**
 * The "nothing lost" checker over the worker's outcome store and the sandbox's
 * call log and state. It is Jepsen's total-queue checker translated to the cancel worker: every
 * accepted request must come out exactly once (lost = ∅), nothing may come out that nobody asked for
 * (phantom = ∅), and repeats are counted, not failed (duplicates, with one idempotency key each).
 *
 * The seven invariants, each reported with counts and every violation spelled out:
 *
 * 1. every accepted request has exactly one outcome (lost = 0);
 * 2. no cancel reached the sandbox for an intent nobody requested (phantom = 0);
 * 3. more than one cancel per request only with one idempotency key (duplicates counted, not failed);
 * 4. no `Canceled` or `GaveUp` after an ambiguous cancel (no answer, a 5xx, a cut body) without a
 *    confirming read (a clean `GET` answered 200) after it;
 * 5. the outcome matches the world: `Canceled`/`AlreadyCanceled` only for a `canceled` intent,
 *    `Canceled` only where the sandbox released the hold (per intent, the same amount), `AlreadyCanceled`
 *    only where it did not (our cancel did not land), `NotCancelable` only for an intent that cannot be
 *    canceled, `NotFound` only for an intent the sandbox does not have; and the amounts add up;
 * 6. no one-second window at the sandbox saw more calls than the configured rate (plus the stated
 *    tolerance, {@link rateAllowance}); after each 429 the request's next call came at least
 *    `Retry-After` later;
 * 7. after a restart, the first call for a request that was in progress (it had made calls and had
 *    no outcome when the process stopped) is a read.
 *
 * Every function is pure over what it is given, except {@link readStore} (which reads the SQLite store
 * read-only, or the PostgreSQL database of cluster mode) and {@link checkAll} (which also asks the
 * sandbox for its state).
 * Run the checker only when no worker process is running on the store.
 */
import type { Call, Sandbox } from "@flex/sandbox"
import Database from "better-sqlite3"
import { Effect, Option } from "effect"
import pg from "pg"
import * as CancelWorkflow from "../../src/flow/CancelWorkflow.js"

export interface OutcomeRow {
  readonly request_id: string
  readonly payment_intent_id: string
  readonly outcome: string
  readonly amount_released: number
  readonly reason: string | null
  readonly detail: string
}

const open = (store: string) => new Database(store, { readonly: true, fileMustExist: true })

/** Every outcome row in the store. */
export const readOutcomes = (store: string): ReadonlyArray<OutcomeRow> => {
  const db = open(store)
  try {
    return db
      .prepare(
        "SELECT request_id, payment_intent_id, outcome, amount_released, reason, detail FROM cancellation_outcomes"
      )
      .all() as Array<OutcomeRow>
  } finally {
    db.close()
  }
}

/** Every request the store accepted (durably recorded at intake), as lower-cased intent ids. */
export const readRequests = (store: string): ReadonlyArray<{ request_id: string; payment_intent_id: string }> => {
  const db = open(store)
  try {
    return db.prepare("SELECT request_id, payment_intent_id FROM cancellation_requests").all() as Array<{
      request_id: string
      payment_intent_id: string
    }>
  } finally {
    db.close()
  }
}

export interface StoreRows {
  readonly outcomes: ReadonlyArray<OutcomeRow>
  readonly requests: ReadonlyArray<{ request_id: string; payment_intent_id: string }>
}

const isPostgres = (store: string) => /^postgres(ql)?:\/\//.test(store)

/** The outcome and request rows of a store: a SQLite file, or a PostgreSQL URL (cluster mode). */
export const readStore = (store: string): Effect.Effect<StoreRows> =>
  isPostgres(store)
    ? Effect.promise(async () => {
        const client = new pg.Client({ connectionString: store })
        await client.connect()
        try {
          const outcomes = await client.query<OutcomeRow>(
            "SELECT request_id, payment_intent_id, outcome, amount_released, reason, detail FROM cancellation_outcomes"
          )
          const requests = await client.query<{ request_id: string; payment_intent_id: string }>(
            "SELECT request_id, payment_intent_id FROM cancellation_requests"
          )
          return { outcomes: outcomes.rows, requests: requests.rows }
        } finally {
          await client.end()
        }
      })
    : Effect.sync(() => ({ outcomes: readOutcomes(store), requests: readRequests(store) }))

/** The intents (lower-cased) that have an outcome in the store now. */
export const decided = (store: string): ReadonlySet<string> =>
  new Set(readOutcomes(store).map((row) => row.payment_intent_id.toLowerCase()))

/** A stop and the restart after it, as the scenario saw them (milliseconds since the epoch). */
export interface Restart {
  /** Just before the signal was sent. */
  readonly stoppedAt: number
  /** Just before the next process was spawned; every call before this came from an earlier process. */
  readonly restartedAt: number
  /** Intents (lower-cased) with an outcome in the store once the stopped process had exited. */
  readonly decidedAtStop: ReadonlySet<string>
  /** A stop longer than any backoff: the sandbox's state may have moved on meanwhile. */
  readonly long?: boolean
}

export interface Options {
  /** The intent ids submitted (any letter case). */
  readonly requested: ReadonlyArray<string>
  /** The worker's `--rate` (calls/s); 0 or undefined: no limit to check. */
  readonly rate?: number | undefined
  /** The sandbox's own token-bucket rate (req/s), to know the `Retry-After` it sends. */
  readonly sandboxRate?: number | undefined
  readonly restarts?: ReadonlyArray<Restart> | undefined
  /** The intents' statuses when the scenario created them (lower-cased ids), for the evidence. */
  readonly initial?: ReadonlyMap<string, string> | undefined
}

/** Everything the checker measured. `violations` is empty iff every invariant holds. */
export interface Result {
  readonly requested: number
  /** Requests the store accepted (`cancellation_requests` rows) plus requested ids it does not have. */
  readonly accepted: number
  readonly outcomes: number
  readonly byOutcome: Readonly<Record<string, number>>
  readonly calls: number
  readonly cancelCalls: number
  readonly readCalls: number
  /** Injected faults by name, from the call log. */
  readonly faults: Readonly<Record<string, number>>
  /** 1 */
  readonly lost: ReadonlyArray<string>
  readonly multipleOutcomes: ReadonlyArray<string>
  /** 2 */
  readonly phantom: ReadonlyArray<string>
  /** 3: cancel calls beyond the first, per request. */
  readonly duplicates: number
  readonly requestsWithDuplicates: number
  /** 4: Canceled/GaveUp rows checked against an ambiguous last cancel. */
  readonly afterAmbiguous: number
  readonly unconfirmed: ReadonlyArray<string>
  /** 5 */
  readonly mismatched: ReadonlyArray<string>
  /** GaveUp on a canceled intent, whose canceling the worker could not attribute (flagged, not failed). */
  readonly unresolved: number
  readonly releasedRecorded: number
  readonly releasedAtSandbox: number
  /** 6 */
  readonly rate: number | undefined
  readonly rateAllowed: number | undefined
  readonly maxRate: number
  readonly maxRateAt: string | undefined
  /** The same over 5-second windows (see {@link rateAllowance}). */
  readonly maxRate5s: number
  readonly rateAllowed5s: number | undefined
  readonly throttled: number
  readonly retryAfterMs: number | undefined
  readonly retryAfterViolations: ReadonlyArray<string>
  readonly minGapAfter429Ms: number | undefined
  /** 7 */
  readonly restarts: number
  readonly inProgressAtRestart: number
  readonly firstActionRead: number
  readonly firstActionViolations: ReadonlyArray<string>
  readonly violations: ReadonlyArray<string>
  /** The call history of (up to 20) intents named in violations: the evidence. */
  readonly evidence: Readonly<Record<string, string>>
}

/**
 * The stated tolerance of invariant 6. The worker spaces its calls `1000 / rate` ms apart, so a window
 * of one second can hold `rate + 1` of them (one at each edge). On top of that, the time between the
 * worker taking a slot and the call arriving at the sandbox varies: a blocked event loop (the worker's
 * SQLite calls are synchronous; the sandbox shares its process with the test runner; the machine has
 * two cores shared with other work) releases several calls at once. We allow up to `jitterMs` (200 ms)
 * of such bunching, that is `rate × 0.2` extra calls in any window, whatever its length.
 *
 * Because that allowance is a number of calls, not a ratio, the same check over a 5-second window
 * (`5 × rate + 1 + rate × 0.2`) tells bunching (which does not add up over time) from calls the limiter
 * never saw (which do): both windows are checked.
 */
export const jitterMs = 200

export const rateAllowance = (rate: number, windowMs = 1000): number =>
  Math.floor((rate * windowMs) / 1000) + 1 + Math.max(1, Math.ceil((rate * jitterMs) / 1000))

/** Milliseconds of rounding allowed on a `Retry-After` gap (the log's timestamps are whole milliseconds). */
export const retryAfterToleranceMs = 2

/** The `Retry-After` the sandbox sends for a token bucket of `rps`: `max(1, ceil((1 − tokens) / rps))` s. */
export const retryAfterFor = (rps: number): number => Math.max(1, Math.ceil(1 / rps)) * 1000

const pathOf = (call: Call.Call) => {
  const q = call.path.indexOf("?")
  return q === -1 ? call.path : call.path.slice(0, q)
}

/** The intent a call is about (lower-cased), or undefined for a list call. */
export const intentOf = (call: Call.Call): string | undefined => {
  const parts = pathOf(call).split("/")
  return parts[2] === "payment_intents" && parts[3] !== undefined && parts[3] !== ""
    ? parts[3].toLowerCase()
    : undefined
}

export const isCancel = (call: Call.Call) => call.method === "POST" && pathOf(call).endsWith("/cancel")
export const isRead = (call: Call.Call) => call.method === "GET" && intentOf(call) !== undefined

/**
 * A cancel whose effect the client cannot know: no answer (reset, hang, dropped reply, a process that
 * died waiting), a 5xx (an HTML 502 included), or a body cut short.
 */
export const isAmbiguous = (call: Call.Call) =>
  call.status === null || call.status >= 500 || call.fault === "malformed_json"

/** A read that told the client the intent's state: a whole 200 answer. */
export const isConfirmingRead = (call: Call.Call) => isRead(call) && call.status === 200 && call.fault === null

/** The largest number of calls in any window of `windowMs` (one second by default), and where it starts. */
export const maxPerWindow = (
  calls: ReadonlyArray<Call.Call>,
  windowMs = 1000
): { max: number; at: string | undefined } => {
  const times = calls.map((c) => Date.parse(c.at)).sort((a, b) => a - b)
  let max = 0
  let at: number | undefined
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++
    if (i - j + 1 > max) {
      max = i - j + 1
      at = times[j]
    }
  }
  return { max, at: at === undefined ? undefined : new Date(at).toISOString() }
}

const CANCELABLE = new Set(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"])

/** Checks all seven invariants against the store and the sandbox. */
export const checkAll = (sandbox: Sandbox.SandboxHandle, store: string, options: Options) =>
  Effect.gen(function* () {
    const violations: Array<string> = []
    const stored = yield* readStore(store)
    const rows = stored.outcomes
    const requested = new Set(options.requested.map((id) => id.toLowerCase()))
    const acceptedIds = new Set([...stored.requests.map((r) => r.payment_intent_id.toLowerCase()), ...requested])
    const calls = yield* sandbox.calls
    const faults: Record<string, number> = {}
    for (const c of calls) if (c.fault !== null) faults[c.fault] = (faults[c.fault] ?? 0) + 1

    // Calls per intent, in arrival order (index into the log).
    const byIntent = new Map<string, Array<{ call: Call.Call; index: number }>>()
    calls.forEach((call, index) => {
      const id = intentOf(call)
      if (id === undefined) return
      const list = byIntent.get(id)
      if (list === undefined) byIntent.set(id, [{ call, index }])
      else list.push({ call, index })
    })

    // 1. Completeness.
    const rowsByIntent = new Map<string, Array<OutcomeRow>>()
    const byOutcome: Record<string, number> = {}
    for (const row of rows) {
      const key = row.payment_intent_id.toLowerCase()
      rowsByIntent.set(key, [...(rowsByIntent.get(key) ?? []), row])
      byOutcome[row.outcome] = (byOutcome[row.outcome] ?? 0) + 1
    }
    const lost = [...acceptedIds].filter((id) => (rowsByIntent.get(id)?.length ?? 0) === 0)
    const multipleOutcomes = [...rowsByIntent].filter(([, list]) => list.length > 1).map(([id]) => id)
    if (lost.length > 0) violations.push(`1: lost ${lost.length} requests (no outcome): ${lost.slice(0, 5).join(", ")}`)
    for (const id of multipleOutcomes) violations.push(`1: ${id} has ${rowsByIntent.get(id)!.length} outcomes`)
    const unrequestedRows = [...rowsByIntent.keys()].filter((id) => !acceptedIds.has(id))
    for (const id of unrequestedRows) violations.push(`1: an outcome for ${id}, which was never requested`)

    // 2. No phantom work.
    const cancels = calls.filter(isCancel)
    const phantom = [...new Set(cancels.map((c) => intentOf(c)!).filter((id) => !acceptedIds.has(id)))]
    if (phantom.length > 0) violations.push(`2: phantom cancels for ${phantom.join(", ")}`)

    // 3. Bounded duplication.
    let duplicates = 0
    let requestsWithDuplicates = 0
    for (const [id, list] of byIntent) {
      const own = list.filter((e) => isCancel(e.call))
      if (own.length > 1) {
        duplicates += own.length - 1
        requestsWithDuplicates++
      }
      const keys = new Set(own.map((e) => e.call.idempotency_key))
      if (keys.has(null)) violations.push(`3: ${id}: a cancel without an idempotency key`)
      if (keys.size > 1) violations.push(`3: ${id}: ${keys.size} different idempotency keys over ${own.length} cancels`)
    }

    // 4. Ambiguity resolved by a read.
    let afterAmbiguous = 0
    const unconfirmed: Array<string> = []
    for (const row of rows) {
      if (row.outcome !== "Canceled" && row.outcome !== "GaveUp") continue
      const id = row.payment_intent_id.toLowerCase()
      const list = byIntent.get(id) ?? []
      const own = list.filter((e) => isCancel(e.call))
      const last = own[own.length - 1]
      if (last === undefined) {
        if (row.outcome === "Canceled") unconfirmed.push(`${id}: Canceled without any cancel call`)
        continue
      }
      const readAfter = list.some((e) => e.index > last.index && isConfirmingRead(e.call))
      if (row.outcome === "Canceled") {
        const cleanOk = last.call.status === 200 && last.call.fault === null
        if (isAmbiguous(last.call)) afterAmbiguous++
        if (!cleanOk && !readAfter) {
          unconfirmed.push(
            `${id}: Canceled, but its last cancel got ${last.call.status ?? "no answer"}${last.call.fault ? ` (${last.call.fault})` : ""} and no read confirmed it`
          )
        }
      } else if (isAmbiguous(last.call)) {
        afterAmbiguous++
        if (!readAfter) {
          unconfirmed.push(
            `${id}: GaveUp after an ambiguous cancel (${last.call.status ?? "no answer"}${last.call.fault ? `, ${last.call.fault}` : ""}) with no confirming read after it`
          )
        }
      }
    }
    for (const u of unconfirmed) violations.push(`4: ${u}`)

    // 5. Outcomes match the world.
    const mismatched: Array<string> = []
    let releasedRecorded = 0
    // GaveUp on an intent found canceled, whose confirming cancels never got an answer: the worker
    // says it cannot tell whose cancel it was (finding I). Honest, and flagged for a person: its
    // release (if ours) is counted apart, not as a mismatch.
    const unresolved = new Set<string>()
    for (const row of rows) {
      const id = row.payment_intent_id
      const intent = yield* sandbox.intent(id)
      const status = Option.match(intent, { onNone: () => "missing", onSome: (i) => i.status as string })
      const release = yield* sandbox.released(id)
      const amount = Number(row.amount_released)
      releasedRecorded += amount
      switch (row.outcome) {
        case "Canceled":
          if (status !== "canceled") mismatched.push(`${id}: recorded Canceled but the intent is ${status}`)
          else if (Option.isNone(release))
            mismatched.push(
              `${id}: recorded Canceled (${amount} released) but no cancel of ours landed: it was canceled before`
            )
          else if (release.value !== amount)
            mismatched.push(`${id}: recorded ${amount} released, the sandbox released ${release.value}`)
          break
        case "AlreadyCanceled":
          if (status !== "canceled") mismatched.push(`${id}: recorded AlreadyCanceled but the intent is ${status}`)
          else if (Option.isSome(release))
            mismatched.push(
              `${id}: recorded AlreadyCanceled but our cancel landed and released ${release.value} (it should be Canceled)`
            )
          break
        case "NotCancelable":
          if (CANCELABLE.has(status) || status === "canceled" || status === "missing")
            mismatched.push(`${id}: recorded NotCancelable but the intent is ${status}`)
          break
        case "NotFound":
          if (status !== "missing") mismatched.push(`${id}: recorded NotFound but the sandbox has it (${status})`)
          break
      }
      if (
        row.outcome === "GaveUp" &&
        status === "canceled" &&
        (row.reason ?? "").includes(CancelWorkflow.unattributed)
      ) {
        unresolved.add(id.toLowerCase())
        continue
      }
      if (row.outcome !== "Canceled" && Option.isSome(release) && row.outcome !== "AlreadyCanceled") {
        mismatched.push(`${id}: recorded ${row.outcome} but our cancel landed and released ${release.value}`)
      }
    }
    const releases = yield* sandbox.releases
    const releasedAtSandbox = releases
      .filter((r) => acceptedIds.has(r.payment_intent_id.toLowerCase()))
      .filter((r) => !unresolved.has(r.payment_intent_id.toLowerCase()))
      .reduce((sum, r) => sum + r.amount, 0)
    if (releasedRecorded !== releasedAtSandbox) {
      mismatched.push(`amounts: ${releasedRecorded} released recorded, ${releasedAtSandbox} released at the sandbox`)
    }
    for (const m of mismatched) violations.push(`5: ${m}`)

    // 6. Rate discipline.
    const rate = options.rate !== undefined && options.rate > 0 ? options.rate : undefined
    const rateAllowed = rate === undefined ? undefined : rateAllowance(rate)
    const peak = maxPerWindow(calls)
    const peak5 = maxPerWindow(calls, 5000)
    if (rate !== undefined && rateAllowed !== undefined) {
      if (peak.max > rateAllowed) {
        violations.push(
          `6: ${peak.max} calls in the second from ${peak.at}; the rate is ${rate}/s (allowed with tolerance: ${rateAllowed})`
        )
      }
      if (peak5.max > rateAllowance(rate, 5000)) {
        violations.push(
          `6: ${peak5.max} calls in the 5 seconds from ${peak5.at}; the rate is ${rate}/s (allowed with tolerance: ${rateAllowance(rate, 5000)})`
        )
      }
    }
    const retryAfterMs = options.sandboxRate === undefined ? undefined : retryAfterFor(options.sandboxRate)
    const retryAfterViolations: Array<string> = []
    let throttled = 0
    let minGap: number | undefined
    for (const [id, list] of byIntent) {
      list.forEach((e, k) => {
        if (e.call.status !== 429) return
        throttled++
        const next = list[k + 1]
        if (next === undefined) return
        const gap = Date.parse(next.call.at) - Date.parse(e.call.at)
        minGap = minGap === undefined ? gap : Math.min(minGap, gap)
        const wanted = retryAfterMs ?? 1000
        if (gap < wanted - retryAfterToleranceMs) {
          retryAfterViolations.push(
            `${id}: ${next.call.method} ${gap} ms after a 429 (Retry-After ${wanted / 1000} s) at ${e.call.at}`
          )
        }
      })
    }
    for (const v of retryAfterViolations) violations.push(`6: ${v}`)

    // 7. After a restart, a request in progress is read before anything else.
    let inProgressAtRestart = 0
    let firstActionRead = 0
    const firstActionViolations: Array<string> = []
    for (const restart of options.restarts ?? []) {
      for (const [id, list] of byIntent) {
        if (restart.decidedAtStop.has(id)) continue
        const before = list.filter((e) => Date.parse(e.call.at) < restart.restartedAt)
        if (before.length === 0) continue
        const first = list.find((e) => Date.parse(e.call.at) >= restart.restartedAt)
        if (first === undefined) continue
        inProgressAtRestart++
        if (isRead(first.call)) firstActionRead++
        else {
          const prev = before[before.length - 1]!.call
          firstActionViolations.push(
            `${id}: first call after the restart at ${new Date(restart.restartedAt).toISOString()}${restart.long ? " (long stop)" : ""} was ${first.call.method} ${isCancel(first.call) ? "cancel" : first.call.path}; its last call before the stop was ${prev.method}${isCancel(prev) ? " cancel" : ""} → ${prev.status ?? "no answer"}${prev.fault ? ` (${prev.fault})` : ""}`
          )
        }
      }
    }
    for (const v of firstActionViolations) violations.push(`7: ${v}`)

    const evidence: Record<string, string> = {}
    const startOf = (restart: Restart) => restart.restartedAt
    const named = [...violations, ...lost.slice(0, 10).map((id) => `lost ${id}`)]
    for (const v of named) {
      const id = /fpi_[0-9a-z]{26}/i.exec(v)?.[0]?.toLowerCase()
      if (id === undefined || id in evidence || Object.keys(evidence).length >= 20) continue
      const marks = (options.restarts ?? []).map(startOf)
      const initial = options.initial?.get(id)
      const row = rowsByIntent.get(id)?.[0]
      evidence[id] = `created ${initial ?? "?"}, recorded ${row?.outcome ?? "nothing"}: ${(byIntent.get(id) ?? [])
        .map((e) => {
          const t = Date.parse(e.call.at)
          const restartsBefore = marks.filter((m) => m <= t).length
          return `${e.call.at.slice(11, 23)} #${restartsBefore} ${e.call.method === "POST" ? "cancel" : "read"} ${e.call.status ?? "-"}${e.call.fault ? `(${e.call.fault})` : ""}`
        })
        .join(" | ")}`
    }
    return {
      evidence,
      requested: requested.size,
      accepted: acceptedIds.size,
      outcomes: rows.length,
      byOutcome,
      calls: calls.length,
      cancelCalls: cancels.length,
      readCalls: calls.filter(isRead).length,
      faults,
      lost,
      multipleOutcomes,
      phantom,
      duplicates,
      requestsWithDuplicates,
      afterAmbiguous,
      unconfirmed,
      mismatched,
      unresolved: unresolved.size,
      releasedRecorded,
      releasedAtSandbox,
      rate,
      rateAllowed,
      maxRate: peak.max,
      maxRateAt: peak.at,
      maxRate5s: peak5.max,
      rateAllowed5s: rate === undefined ? undefined : rateAllowance(rate, 5000),
      throttled,
      retryAfterMs,
      retryAfterViolations,
      minGapAfter429Ms: minGap,
      restarts: options.restarts?.length ?? 0,
      inProgressAtRestart,
      firstActionRead,
      firstActionViolations,
      violations
    } satisfies Result
  })

export interface Summary {
  readonly requested: number
  readonly outcomes: number
  readonly lost: ReadonlyArray<string>
  readonly phantom: ReadonlyArray<string>
  readonly duplicates: number
  readonly violations: ReadonlyArray<string>
}

/** Invariants 1–5 (and 6's Retry-After part) for the given requested intent ids. */
export const check = (
  sandbox: Sandbox.SandboxHandle,
  store: string,
  requested: ReadonlyArray<string>,
  options: Omit<Options, "requested"> = {}
): Effect.Effect<Result & Summary> => checkAll(sandbox, store, { ...options, requested })
