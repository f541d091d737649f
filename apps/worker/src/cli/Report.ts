/**
 * The report a batch (or the whole store) ends in: counts per outcome, the amount released, and the
 * intents that need a person.
 */
import * as Money from "@flex/domain/Money"
import * as Data from "effect/Data"
import * as Outcome from "../core/Outcome.js"
import { retryable } from "../store/Store.js"
import { defaultStore } from "./Help.js"

export interface Report {
  total: number
  outcomes: Record<Outcome.Tag, number>
  amountReleased: number
  apiCalls: number
  resubmitted: number
  duplicates: number
  /** The first {@link duplicateLinesKept} lines that repeated an intent already in the batch. */
  readonly duplicateLines: Array<{ readonly line: number; readonly paymentIntentId: string }>
  /** Requests an earlier run left pending that this run took up. */
  resumed: number
  /** Requests without an outcome when the run began its work (this batch's and the resumed ones). */
  pending: number
  readonly invalidLines: Array<{ readonly line: number; readonly text: string; readonly problem: string }>
  readonly needsAttention: Array<{
    readonly paymentIntentId: string
    readonly outcome: Outcome.Tag
    readonly reason: string
  }>
}

export const empty = (): Report => ({
  total: 0,
  outcomes: { Canceled: 0, AlreadyCanceled: 0, NotCancelable: 0, NotFound: 0, Rejected: 0, GaveUp: 0 },
  amountReleased: 0,
  apiCalls: 0,
  resubmitted: 0,
  duplicates: 0,
  duplicateLines: [],
  resumed: 0,
  pending: 0,
  invalidLines: [],
  needsAttention: []
})

export const add = (report: Report, outcome: Outcome.Outcome, countCalls = true): void => {
  report.total++
  report.outcomes[outcome._tag]++
  report.amountReleased += Outcome.amountReleased(outcome)
  if (countCalls) report.apiCalls += outcome.apiCalls
  if (Outcome.needsAttention(outcome)) {
    report.needsAttention.push({
      paymentIntentId: outcome.paymentIntentId,
      outcome: outcome._tag,
      reason: Outcome.reasonOf(outcome)
    })
  }
}

/**
 * The requests that need attention in a stable order, whatever order they finished in: by outcome (the
 * order of {@link Outcome.tags}), then by intent id.
 */
export const attentionList = (report: Report): Report["needsAttention"] =>
  [...report.needsAttention].sort(
    (a, b) =>
      Outcome.tags.indexOf(a.outcome) - Outcome.tags.indexOf(b.outcome) ||
      (a.paymentIntentId < b.paymentIntentId ? -1 : a.paymentIntentId > b.paymentIntentId ? 1 : 0)
  )

/** How many duplicate lines a report names (the count is always exact). */
export const duplicateLinesKept = 50

/** Every request ended in an outcome and no input line was rejected. */
export const isClean = (report: Report): boolean => report.invalidLines.length === 0

/**
 * A batch that reached an outcome for every request, but not one a script may take for success: some
 * request needs a person, or input lines were rejected. Exit 3 (unless `--ok-if-attention`).
 */
export class NeedsAttention extends Data.TaggedError("NeedsAttention")<{
  readonly requests: number
  readonly invalidLines: number
}> {
  override get message(): string {
    const parts = [
      ...(this.requests > 0
        ? [`${this.requests} ${this.requests === 1 ? "request needs" : "requests need"} attention`]
        : []),
      ...(this.invalidLines > 0
        ? [`${this.invalidLines} input ${this.invalidLines === 1 ? "line was" : "lines were"} rejected`]
        : [])
    ]
    return `every request reached an outcome, but ${parts.join(" and ")} (see the report; --ok-if-attention exits 0)`
  }
}

/** {@link NeedsAttention} for a report that needs a person, if it does. */
export const attention = (report: Report): NeedsAttention | undefined =>
  report.needsAttention.length > 0 || report.invalidLines.length > 0
    ? new NeedsAttention({ requests: report.needsAttention.length, invalidLines: report.invalidLines.length })
    : undefined

/** Arguments quoted for a POSIX shell where they need it. */
const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)

/**
 * The command that runs the report's `GaveUp` requests again (still processing, or out of attempts),
 * on the same store; `undefined` when there are none.
 */
export const retryCommand = (report: Report, store: string): string | undefined => {
  const ids = attentionList(report)
    .filter((n) => retryable.includes(n.outcome))
    .map((n) => n.paymentIntentId)
  // Cluster stores take retries through the HTTP API (`retry_gave_up`); a URL may also hold a password.
  if (ids.length === 0 || /^postgres(ql)?:/.test(store)) return undefined
  const storeArg = store === defaultStore ? "" : ` --store ${shellQuote(store)}`
  return `flex-worker cancel --retry-gave-up${storeArg} ${ids.map(shellQuote).join(" ")}`
}

/** The `--json` form: exactly one object. */
export const toJson = (report: Report, store = defaultStore) => ({
  total: report.total,
  outcomes: Object.fromEntries(Outcome.tags.map((tag) => [Outcome.key[tag], report.outcomes[tag]])),
  amount_released: report.amountReleased,
  api_calls: report.apiCalls,
  resumed: report.resumed,
  duplicate_lines: report.duplicateLines.map((d) => ({ line: d.line, payment_intent_id: d.paymentIntentId })),
  invalid_lines: report.invalidLines.map((l) => ({ line: l.line, problem: l.problem })),
  needs_attention: attentionList(report).map((n) => ({
    payment_intent_id: n.paymentIntentId,
    outcome: Outcome.key[n.outcome],
    reason: n.reason
  })),
  ...(retryCommand(report, store) === undefined ? {} : { retry_command: retryCommand(report, store) })
})

/** The human form. */
export const toText = (report: Report, store = defaultStore): string => {
  const lines: Array<string> = []
  const width = Math.max(...Outcome.tags.map((t) => Outcome.key[t].length))
  lines.push(
    `Requests: ${report.total}${report.resubmitted > 0 ? ` (${report.resubmitted} already had an outcome: no API call)` : ""}`
  )
  for (const tag of Outcome.tags) lines.push(`  ${Outcome.key[tag].padEnd(width)}  ${report.outcomes[tag]}`)
  lines.push(`Amount released: ${Money.format(Money.cents(report.amountReleased))}`)
  lines.push(`API calls: ${report.apiCalls}`)
  if (report.resumed > 0) {
    lines.push(
      `Resumed: ${report.resumed} ${report.resumed === 1 ? "request" : "requests"} an earlier run left pending`
    )
  }
  if (report.duplicates > 0) {
    lines.push(`Duplicate lines collapsed: ${report.duplicates}`)
    for (const d of report.duplicateLines) lines.push(`  line ${d.line}: ${d.paymentIntentId} (already in this batch)`)
    if (report.duplicates > report.duplicateLines.length) {
      lines.push(`  … and ${report.duplicates - report.duplicateLines.length} more`)
    }
  }
  if (report.invalidLines.length > 0) {
    lines.push(`Invalid input lines: ${report.invalidLines.length}`)
    for (const l of report.invalidLines.slice(0, 50)) lines.push(`  ${l.problem}`)
    if (report.invalidLines.length > 50) lines.push(`  … and ${report.invalidLines.length - 50} more (see --json)`)
  }
  if (report.needsAttention.length > 0) {
    lines.push(`Needs attention: ${report.needsAttention.length}`)
    const shown = attentionList(report).slice(0, 100)
    // Columns aligned: the intent, the outcome, the reason.
    const idWidth = Math.max(...shown.map((n) => n.paymentIntentId.length))
    const outcomeWidth = Math.max(...shown.map((n) => Outcome.key[n.outcome].length))
    for (const n of shown) {
      lines.push(`  ${n.paymentIntentId.padEnd(idWidth)}  ${Outcome.key[n.outcome].padEnd(outcomeWidth)}  ${n.reason}`)
    }
    if (report.needsAttention.length > 100)
      lines.push(`  … and ${report.needsAttention.length - 100} more (see --json)`)
    const retry = retryCommand(report, store)
    if (retry !== undefined) lines.push(`To run the gave_up ones again once their cause is fixed:`, `  ${retry}`)
  }
  return lines.join("\n")
}
