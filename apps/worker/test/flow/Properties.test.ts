/**
 * The machine against a model of Flex: random intents, every fault kind the sandbox has (5xx, resets,
 * hangs, 429s, cut bodies, commit-then-drop), processes dying before or after their cancel reached
 * Flex, resumes after a stop, someone else cancelling meanwhile, and a server that honours
 * idempotency keys or ignores them. The reliability checker's invariants, stated on the machine.
 */
import { assert, describe, it } from "@effect/vitest"
import { RetryPolicy } from "@flex/http"
import { Duration, FastCheck as fc } from "effect"
import type { Snapshot } from "../../src/flow/Intent.js"
import * as Machine from "../../src/flow/Machine.js"

const CANCELABLE = new Set(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"])

interface World {
  readonly exists: boolean
  readonly honoursKeys: boolean
  status: string
  readonly amount: number
  capturable: number
  readonly manual: boolean
  readonly hasCharge: boolean
  /** The answer stored under our key, when the server honours keys. */
  keyReply: Machine.Event | undefined
  /** What our cancel released, when one of ours acted. */
  ours: number | undefined
  /** Someone else canceled it (before or while we worked). */
  theirs: boolean
}

type Fault = "none" | "5xx" | "reset" | "hang" | "429" | "cut" | "drop" | "crashBefore" | "crashAfter" | "resumed"
type External = "none" | "otherCancels" | "settles" | "fails"

interface Turn {
  readonly fault: Fault
  readonly external: External
}

const snapshotOf = (w: World): Snapshot => ({
  status: w.status,
  amount: w.amount,
  amount_capturable: w.capturable,
  amount_received: 0,
  capture_method: w.manual ? "manual" : "automatic",
  has_charge: w.hasCharge
})

/** Flex executing a cancel with our key. */
const executeCancel = (w: World): Machine.Event => {
  if (!w.exists) return { _tag: "Missing", message: "404" }
  if (w.honoursKeys && w.keyReply !== undefined) return w.keyReply
  let reply: Machine.Event
  if (CANCELABLE.has(w.status)) {
    w.ours = w.capturable
    w.status = "canceled"
    w.capturable = 0
    reply = { _tag: "Ok", intent: snapshotOf(w) }
  } else {
    reply = { _tag: "Refused", message: `400 the intent is ${w.status}` }
  }
  if (w.honoursKeys) w.keyReply = reply
  return reply
}

const executeRead = (w: World): Machine.Event =>
  w.exists ? { _tag: "Ok", intent: snapshotOf(w) } : { _tag: "Missing", message: "404" }

/** What the client sees of a call under a fault (the world changes only where the call executed). */
const answer = (w: World, command: "Cancel" | "Read", fault: Fault): Machine.Event => {
  const execute = () => (command === "Cancel" ? executeCancel(w) : executeRead(w))
  switch (fault) {
    case "none":
      return execute()
    case "5xx":
      return { _tag: "Transient", message: "503", status: 503 }
    case "reset":
    case "hang":
      return { _tag: "Transient", message: fault }
    case "429":
      return { _tag: "Throttled", message: "429", retryAfter: 1000 }
    case "cut": {
      // Executed, then the body cut short: the status survives, the body does not.
      const reply = execute()
      return reply._tag === "Ok" ? { _tag: "Transient", message: "cut body", status: 200 } : reply
    }
    case "drop":
      execute()
      return { _tag: "Transient", message: "commit then drop" }
    case "crashBefore":
    case "crashAfter":
      // The process died in this step; the step runs again and sends nothing (a read just reads).
      if (command === "Read") return execute()
      if (fault === "crashAfter") execute()
      return { _tag: "NotSent", reason: "rerun" }
    case "resumed":
      return command === "Cancel" ? { _tag: "NotSent", reason: "resumed" } : execute()
  }
}

const happen = (w: World, external: External) => {
  if (!w.exists) return
  if (external === "otherCancels" && CANCELABLE.has(w.status)) {
    w.status = "canceled"
    w.capturable = 0
    w.theirs = true
  } else if (external === "settles" && w.status === "processing") {
    // A manual-capture payment is authorized; an automatic one failed and wants another method.
    w.status = w.manual ? "requires_capture" : "requires_payment_method"
    w.capturable = w.manual ? w.amount : 0
  } else if (external === "fails" && w.status === "processing") {
    w.status = "succeeded"
  }
}

const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 10, arbitrary: fc.constant("none" as const) },
  { weight: 2, arbitrary: fc.constantFrom<Fault>("5xx", "reset", "hang", "429", "cut", "drop") },
  { weight: 1, arbitrary: fc.constantFrom<Fault>("crashBefore", "crashAfter", "resumed") }
)
const external: fc.Arbitrary<External> = fc.oneof(
  { weight: 12, arbitrary: fc.constant("none" as const) },
  { weight: 1, arbitrary: fc.constantFrom<External>("otherCancels", "settles", "fails") }
)

const scenario = fc.record({
  exists: fc.boolean().map((b) => b || Math.random() < 0.8),
  honoursKeys: fc.boolean(),
  status: fc.constantFrom(
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
    "requires_capture",
    "processing",
    "succeeded",
    "canceled"
  ),
  amount: fc.integer({ min: 0, max: 100_000 }),
  manual: fc.boolean(),
  turns: fc.array(fc.record({ fault, external }), { maxLength: 80 }),
  limits: fc.record({
    maxAttempts: fc.integer({ min: 1, max: 6 }),
    maxReads: fc.integer({ min: 1, max: 6 }),
    maxConfirms: fc.integer({ min: 1, max: 6 }),
    maxThrottled: fc.integer({ min: 0, max: 10 })
  })
})

type Scenario = typeof scenario extends fc.Arbitrary<infer A> ? A : never

const maxSteps = 1000
/** More with FLEX_PROPERTY_RUNS=…, for a long hunt. */
const numRuns = Number(process.env.FLEX_PROPERTY_RUNS ?? 3000)

interface Run {
  readonly outcome: Machine.Command & { _tag: "Finish" }
  readonly log: ReadonlyArray<{ readonly command: "Cancel" | "Read"; readonly event: Machine.Event }>
  readonly world: World
  readonly finishes: number
  readonly steps: number
}

const run = (s: Scenario): Run => {
  const world: World = {
    exists: s.exists,
    honoursKeys: s.honoursKeys,
    status: s.status,
    amount: s.amount,
    capturable: s.status === "requires_capture" ? s.amount : 0,
    manual: s.manual || s.status === "requires_capture",
    hasCharge: s.status === "requires_capture" || s.status === "processing" || s.status === "succeeded",
    keyReply: undefined,
    ours: undefined,
    theirs: s.status === "canceled"
  }
  const limits: Machine.Limits = {
    ...s.limits,
    maxReadsAfterAmbiguous: s.limits.maxReads * 2,
    backoff: RetryPolicy.make({ maxRetries: 0, initialDelay: Duration.millis(100), maxDelay: Duration.seconds(5) })
  }
  let [state, command] = Machine.start(limits, "exec", "fpi_01J9M9S346Q3D25VT4F5V37E3S")
  const log: Array<{ command: "Cancel" | "Read"; event: Machine.Event }> = []
  let turn = 0
  let finishes = 0
  let finished: (Machine.Command & { _tag: "Finish" }) | undefined
  let steps = 0
  for (; steps < maxSteps; steps++) {
    if (command._tag === "Finish") {
      finishes++
      finished ??= command
      break
    }
    let event: Machine.Event
    if (command._tag === "Sleep") {
      assert.isTrue(command.millis >= 0 && command.millis <= 60_000, `a sleep of ${command.millis} ms`)
      event = { _tag: "Slept" }
    } else {
      // Once the scripted turns are used up, Flex behaves (so every run can end).
      const t: Turn = s.turns[turn++] ?? { fault: "none", external: "none" }
      happen(world, t.external)
      event = answer(world, command._tag, t.fault)
      log.push({ command: command._tag, event })
    }
    ;[state, command] = Machine.step(state, event)
  }
  assert.isDefined(finished, `no Finish within ${maxSteps} steps`)
  return { outcome: finished!, log, world, finishes, steps }
}

const ambiguous = (e: Machine.Event) => e._tag === "Transient" || e._tag === "Unreadable" || e._tag === "NotSent"

describe("Machine: properties against a model of Flex", () => {
  it("every run ends in exactly one Finish, in a bounded number of steps", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const r = run(s)
        assert.strictEqual(r.finishes, 1)
        assert.isBelow(r.steps, maxSteps)
      }),
      { numRuns }
    )
  })

  it("never a cancel after an ambiguous cancel without a read answered in between", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { log } = run(s)
        let unsettled = false
        for (const { command, event } of log) {
          if (command === "Cancel") {
            assert.isFalse(unsettled, `a cancel sent while an earlier one's effect was unknown: ${JSON.stringify(log)}`)
            if (ambiguous(event)) unsettled = true
          } else if (event._tag === "Ok" || event._tag === "Missing") unsettled = false
        }
      }),
      { numRuns }
    )
  })

  it("Canceled only when a 200 to our key was seen and our cancel acted, with the amount it released", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { outcome, log, world } = run(s)
        if (outcome.outcome._tag !== "Canceled") return
        const our200 = log.some(
          (e) =>
            e.command === "Cancel" &&
            ((e.event._tag === "Ok" && e.event.intent.status === "canceled") ||
              (e.event._tag === "Transient" && e.event.status === 200))
        )
        assert.isTrue(our200, "a 200 to one of our cancels")
        assert.isDefined(world.ours, "our cancel acted")
        assert.strictEqual(outcome.outcome.amountReleased, world.ours)
      }),
      { numRuns }
    )
  })

  it("with keys honoured, the outcome matches the world; without, it never claims a release it cannot show", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { outcome, world } = run(s)
        const o = outcome.outcome
        switch (o._tag) {
          case "Canceled":
            assert.isDefined(world.ours)
            break
          case "AlreadyCanceled":
            assert.strictEqual(world.status, "canceled")
            if (world.honoursKeys) assert.isUndefined(world.ours, "our cancel acted: it should be Canceled")
            break
          case "NotCancelable":
            assert.isFalse(CANCELABLE.has(world.status) || world.status === "canceled" || !world.exists)
            assert.isUndefined(world.ours)
            break
          case "NotFound":
            assert.isFalse(world.exists)
            break
          case "Rejected":
            assert.fail("the machine never rejects: a refused key is no outcome")
            break
          case "GaveUp":
            break
        }
      }),
      { numRuns }
    )
  })

  it("a GaveUp after an ambiguous cancel with no read after it says the cancel's fate is unknown", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { outcome, log } = run(s)
        if (outcome.outcome._tag !== "GaveUp") return
        const lastCancel = log.map((e) => e.command).lastIndexOf("Cancel")
        const last = log[lastCancel]
        if (last === undefined || !ambiguous(last.event)) return
        const readAfter = log.slice(lastCancel + 1).some((e) => e.command === "Read" && e.event._tag === "Ok")
        if (!readAfter) assert.include(outcome.outcome.lastError, Machine.unsettled)
      }),
      { numRuns }
    )
  })

  it("API calls counted = calls answered; attempts within the budgets", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { outcome, log } = run(s)
        assert.strictEqual(outcome.outcome.apiCalls, log.filter((e) => e.event._tag !== "NotSent").length)
        const cancels = log.filter(
          (e) => e.command === "Cancel" && e.event._tag !== "NotSent" && e.event._tag !== "Throttled"
        )
        assert.strictEqual(outcome.outcome.attempts, cancels.length)
        assert.isAtMost(outcome.outcome.attempts, s.limits.maxAttempts + s.limits.maxConfirms)
      }),
      { numRuns }
    )
  })
})
