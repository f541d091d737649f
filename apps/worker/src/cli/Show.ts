/**
 * `flex-worker show`: one request as the store has it, for a person answering "what happened to this
 * intent?": what was asked, each cancel attempt, earlier outcomes replaced by `--retry-gave-up`, and
 * the outcome with its reason.
 */
import { Money } from "@flex/domain"
import * as Option from "effect/Option"
import * as Outcome from "../core/Outcome.js"
import type * as Store from "../store/Store.js"

/**
 * Attempts numbered 1, 2, 3… within their generation. The store keys an attempt by its step's position
 * in the workflow (`Cancel/7`: reads and sleeps come between cancels), which is what names its step.
 */
const numbered = (history: Store.History) => {
  const seen = new Map<number, number>()
  return history.attempts.map((a) => {
    const n = (seen.get(a.generation) ?? 0) + 1
    seen.set(a.generation, n)
    return { ...a, n }
  })
}

/** The `--json` form of one request. */
export const toJson = (history: Store.History) => ({
  request_id: history.request.requestId,
  payment_intent_id: history.request.paymentIntentId,
  ...(history.request.reason === undefined ? {} : { reason: history.request.reason }),
  generation: history.request.generation,
  state: Option.isSome(history.outcome) ? "done" : "pending",
  accepted_at: history.acceptedAt,
  attempts: numbered(history).map((a) => ({
    generation: a.generation,
    attempt: a.n,
    step: `Cancel/${a.attempt}`,
    started_at: a.startedAt,
    session: a.session
  })),
  superseded: history.superseded.map((s) => ({
    generation: s.generation,
    ...Outcome.toJson(s.outcome),
    recorded_at: s.recordedAt
  })),
  ...(Option.isSome(history.outcome)
    ? {
        outcome: {
          ...Outcome.toJson(history.outcome.value.outcome),
          recorded_at: history.outcome.value.recordedAt,
          recorded_by: history.outcome.value.recordedBy
        }
      }
    : {})
})

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const summary = (outcome: Outcome.Outcome): string => {
  const reason = Outcome.reasonOf(outcome)
  return `${Outcome.key[outcome._tag]}${reason === "" ? "" : `: ${reason}`}`
}

/** The human form of one request: a label column and a value column. */
export const toText = (history: Store.History): string => {
  const rows: Array<[string, string]> = [
    ["payment intent", history.request.paymentIntentId],
    ...(history.request.reason === undefined ? [] : [["reason", history.request.reason] as [string, string]]),
    ["accepted", history.acceptedAt]
  ]
  const generations = new Set(history.attempts.map((a) => a.generation)).size > 1
  for (const a of numbered(history)) {
    const session = a.session === null ? "" : ` by process ${a.session}`
    rows.push([
      `attempt ${a.n}`,
      `started ${a.startedAt}${session}${generations ? ` (generation ${a.generation})` : ""}`
    ])
  }
  if (history.attempts.length === 0) rows.push(["attempts", "none (no cancel was sent)"])
  for (const s of history.superseded) {
    rows.push([`generation ${s.generation}`, `${summary(s.outcome)} (recorded ${s.recordedAt}, run again)`])
  }
  if (Option.isSome(history.outcome)) {
    const { outcome, recordedAt, recordedBy } = history.outcome.value
    rows.push(["outcome", summary(outcome)])
    if ("status" in outcome && outcome.status !== undefined) rows.push(["intent status", outcome.status])
    rows.push(["released", Money.format(Money.cents(Outcome.amountReleased(outcome)))])
    rows.push(["calls", `${plural(outcome.attempts, "cancel attempt")}, ${plural(outcome.apiCalls, "API call")}`])
    rows.push(["recorded", `${recordedAt}${recordedBy === null ? "" : ` by ${recordedBy}`}`])
  } else {
    rows.push(["outcome", "none yet: pending (the next `flex-worker cancel` or a running `serve` finishes it)"])
  }
  const width = Math.max(...rows.map(([label]) => label.length))
  return [
    `Request ${history.request.requestId}`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
  ].join("\n")
}
