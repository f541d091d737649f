/**
 * Drives the pure machine with scripted answers: each `Cancel` or `Read` takes the next answer, each
 * `Sleep` is answered `Slept`. The trace reads like the flow's story, e.g.
 * `Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Ok canceled | Finish Canceled`.
 */
import { RetryPolicy } from "@flex/http"
import { Duration } from "effect"
import type * as Outcome from "../../../src/core/Outcome.js"
import type { Snapshot } from "../../../src/flow/Intent.js"
import * as Machine from "../../../src/flow/Machine.js"

export const limits: Machine.Limits = {
  maxAttempts: 3,
  maxReads: 2,
  maxReadsAfterAmbiguous: 4,
  maxConfirms: 3,
  maxThrottled: 4,
  backoff: RetryPolicy.make({ maxRetries: 0, initialDelay: Duration.seconds(1), maxDelay: Duration.seconds(30) })
}

export const intentId = "fpi_01J9M9S346Q3D25VT4F5V37E3S"

export const snapshot = (status: string, over: Partial<Snapshot> = {}): Snapshot => ({
  status,
  amount: 5000,
  amount_capturable: status === "requires_capture" ? 5000 : 0,
  amount_received: 0,
  capture_method: "manual",
  has_charge: status === "requires_capture" || status === "canceled",
  ...over
})

/** Answers, by name. */
export const ok = (status: string, over?: Partial<Snapshot>): Machine.Event => ({
  _tag: "Ok",
  intent: snapshot(status, over)
})
export const refused: Machine.Event = { _tag: "Refused", message: "400 payment_intent_unexpected_state" }
export const missing: Machine.Event = { _tag: "Missing", message: "404" }
export const transient = (status?: number): Machine.Event => ({
  _tag: "Transient",
  message: `${status ?? "reset"}`,
  status
})
export const throttled = (retryAfter?: number): Machine.Event => ({ _tag: "Throttled", message: "429", retryAfter })
export const unreadable: Machine.Event = { _tag: "Unreadable", message: "amount: expected a number" }
export const rerun: Machine.Event = { _tag: "NotSent", reason: "rerun" }
export const resumed: Machine.Event = { _tag: "NotSent", reason: "resumed" }

const label = (event: Machine.Event): string => {
  switch (event._tag) {
    case "Ok":
      return `Ok ${event.intent.status}`
    case "Transient":
      return `Transient ${event.status ?? "-"}`
    case "NotSent":
      return `NotSent ${event.reason}`
    default:
      return event._tag
  }
}

export interface Played {
  readonly trace: string
  readonly commands: ReadonlyArray<Machine.Command>
  readonly states: ReadonlyArray<Machine.State>
  readonly outcome: Outcome.Outcome
  /** Answers left over (a script that gives more than the flow asked for is a wrong script). */
  readonly unused: number
}

/** Plays the answers; throws if the machine asks for more than given or runs past `maxSteps`. */
export const play = (
  answers: ReadonlyArray<Machine.Event>,
  options: { limits?: Machine.Limits; maxSteps?: number } = {}
): Played => {
  let [state, command] = Machine.start(options.limits ?? limits, "exec-1", intentId)
  const commands: Array<Machine.Command> = [command]
  const states: Array<Machine.State> = [state]
  const trace: Array<string> = []
  let next = 0
  for (let steps = 0; steps < (options.maxSteps ?? 500); steps++) {
    if (command._tag === "Finish") {
      trace.push(`Finish ${command.outcome._tag}`)
      return { trace: trace.join(" | "), commands, states, outcome: command.outcome, unused: answers.length - next }
    }
    let event: Machine.Event
    if (command._tag === "Sleep") {
      trace.push("Sleep")
      event = { _tag: "Slept" }
    } else {
      const answer = answers[next++]
      if (answer === undefined) throw new Error(`the script ran out at ${trace.join(" | ")} | ${command._tag}?`)
      trace.push(`${command._tag}→${label(answer)}`)
      event = answer
    }
    ;[state, command] = Machine.step(state, event)
    commands.push(command)
    states.push(state)
  }
  throw new Error(`no Finish within ${options.maxSteps ?? 500} steps: ${trace.join(" | ")}`)
}
