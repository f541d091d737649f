/**
 * The flow's decisions, one script per branch of the machine's table: the answers Flex gives, and the
 * commands and outcome they must lead to. No engine, no HTTP, no clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { RetryPolicy } from "@flex/http"
import * as Machine from "../../src/flow/Machine.js"
import {
  limits,
  missing,
  ok,
  play,
  refused,
  rerun,
  resumed,
  throttled,
  transient,
  unreadable
} from "./support/script.js"

interface Case {
  readonly name: string
  readonly answers: ReadonlyArray<Machine.Event>
  readonly trace: string
  readonly outcome: string
  readonly released?: number
  readonly reason?: RegExp
}

const cases: ReadonlyArray<Case> = [
  // Cancel first.
  {
    name: "happy path: one call",
    answers: [ok("canceled")],
    trace: "Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 5000
  },
  {
    name: "a 200 for an intent that never held money releases nothing",
    answers: [ok("canceled", { capture_method: "automatic", has_charge: false })],
    trace: "Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 0
  },
  {
    name: "404 is NotFound",
    answers: [missing],
    trace: "Cancel→Missing | Finish NotFound",
    outcome: "NotFound"
  },
  {
    name: "a 200 that did not cancel (succeeded) is NotCancelable",
    answers: [ok("succeeded")],
    trace: "Cancel→Ok succeeded | Finish NotCancelable",
    outcome: "NotCancelable",
    reason: /refund/
  },
  {
    name: "a 200 that left the intent cancelable: wait, cancel again",
    answers: [ok("requires_capture"), ok("canceled")],
    trace: "Cancel→Ok requires_capture | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 5000
  },
  {
    name: "a status this version does not know is never recorded as canceled",
    answers: [ok("disputed")],
    trace: "Cancel→Ok disputed | Finish GaveUp",
    outcome: "GaveUp",
    reason: /"disputed".*does not know/
  },
  // Refusals are classified by a read.
  {
    name: "refused, then read canceled: AlreadyCanceled",
    answers: [refused, ok("canceled")],
    trace: "Cancel→Refused | Read→Ok canceled | Finish AlreadyCanceled",
    outcome: "AlreadyCanceled"
  },
  {
    name: "refused, then read succeeded: NotCancelable (refund instead)",
    answers: [refused, ok("succeeded")],
    trace: "Cancel→Refused | Read→Ok succeeded | Finish NotCancelable",
    outcome: "NotCancelable"
  },
  {
    name: "refused, then read 404: NotFound",
    answers: [refused, missing],
    trace: "Cancel→Refused | Read→Missing | Finish NotFound",
    outcome: "NotFound"
  },
  {
    name: "refused, then read still cancelable: wait, cancel again; the pre-cancel read gives the amount",
    answers: [refused, ok("requires_capture", { amount_capturable: 4200 }), ok("canceled")],
    trace: "Cancel→Refused | Read→Ok requires_capture | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 4200
  },
  {
    name: "refused and the state cannot be read: GaveUp after maxReads failed reads",
    answers: [refused, transient(503), transient()],
    trace: "Cancel→Refused | Read→Transient 503 | Sleep | Read→Transient - | Finish GaveUp",
    outcome: "GaveUp",
    reason: /could not be read\)$/
  },
  {
    name: "an unreadable read is not read again",
    answers: [refused, unreadable],
    trace: "Cancel→Refused | Read→Unreadable | Finish GaveUp",
    outcome: "GaveUp"
  },
  // Processing: try later, then say how to run it again.
  {
    name: "processing on every attempt: GaveUp that --retry-gave-up runs again",
    answers: [refused, ok("processing"), refused, ok("processing"), refused, ok("processing")],
    trace:
      "Cancel→Refused | Read→Ok processing | Sleep | Cancel→Refused | Read→Ok processing | Sleep | Cancel→Refused | Read→Ok processing | Finish GaveUp",
    outcome: "GaveUp",
    reason: /still processing after 3 attempts; run it again once it settles \(flex-worker cancel --retry-gave-up/
  },
  {
    name: "processing, then cancelable: canceled on a later attempt",
    answers: [refused, ok("processing"), ok("canceled")],
    trace: "Cancel→Refused | Read→Ok processing | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  // Ambiguous cancels: wait, read, and never cancel again before a read said what happened.
  {
    name: "503, then read cancelable: our cancel did not land, cancel again",
    answers: [transient(503), ok("requires_capture"), ok("canceled")],
    trace: "Cancel→Transient 503 | Sleep | Read→Ok requires_capture | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 5000
  },
  {
    name: "reply lost, read canceled, the same-key cancel replays our 200: Canceled",
    answers: [transient(), ok("canceled"), ok("canceled")],
    trace: "Cancel→Transient - | Sleep | Read→Ok canceled | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled",
    released: 5000
  },
  {
    name: "503, read canceled, the same-key cancel refused: someone else's cancel, AlreadyCanceled",
    answers: [transient(503), ok("canceled"), refused],
    trace: "Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Refused | Finish AlreadyCanceled",
    outcome: "AlreadyCanceled"
  },
  {
    name: "a confirming cancel answered 200 with a cut body is our replay; the read gives the amounts",
    answers: [transient(), ok("canceled"), transient(200), ok("canceled")],
    trace:
      "Cancel→Transient - | Sleep | Read→Ok canceled | Cancel→Transient 200 | Sleep | Read→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    name: "confirming cancels never answered: GaveUp, canceled but whose is unknown",
    answers: [
      transient(),
      ok("canceled"),
      transient(503),
      ok("canceled"),
      transient(503),
      ok("canceled"),
      transient(),
      ...Array.from({ length: limits.maxReadsAfterAmbiguous }, () => transient())
    ],
    trace:
      "Cancel→Transient - | Sleep | Read→Ok canceled | Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Transient - | Sleep | Read→Transient - | Sleep | Read→Transient - | Sleep | Read→Transient - | Sleep | Read→Transient - | Finish GaveUp",
    outcome: "GaveUp",
    reason: new RegExp(Machine.unsettled)
  },
  {
    name: "confirms exhausted with a read after each: GaveUp unattributed",
    answers: [
      transient(),
      ok("canceled"),
      transient(503),
      ok("canceled"),
      transient(503),
      ok("canceled"),
      transient(503),
      ok("canceled")
    ],
    trace:
      "Cancel→Transient - | Sleep | Read→Ok canceled | Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→Transient 503 | Sleep | Read→Ok canceled | Finish GaveUp",
    outcome: "GaveUp",
    reason: new RegExp(Machine.unattributed)
  },
  {
    name: "a 2xx cancel whose amounts cannot be read is ambiguous: read before anything else",
    answers: [unreadable, ok("canceled"), ok("canceled")],
    trace: "Cancel→Unreadable | Sleep | Read→Ok canceled | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    // Chaos (b): a 500 to the cancel, then maxReads (8) failed reads in a row in a storm recorded a GaveUp
    // with no read after the ambiguous cancel. The reads now get twice the budget, and what is left says so.
    name: "chaos (b): after an ambiguous cancel the reads get the deeper budget; then GaveUp says the cancel's fate is unknown",
    answers: [transient(503), transient(502), transient(), transient(), transient()],
    trace:
      "Cancel→Transient 503 | Sleep | Read→Transient 502 | Sleep | Read→Transient - | Sleep | Read→Transient - | Sleep | Read→Transient - | Finish GaveUp",
    outcome: "GaveUp",
    reason: new RegExp(Machine.unsettled)
  },
  {
    name: "every attempt ambiguous and read cancelable: GaveUp with the last error after maxAttempts",
    answers: [
      transient(503),
      ok("requires_capture"),
      transient(503),
      ok("requires_capture"),
      transient(500),
      ok("requires_capture")
    ],
    trace:
      "Cancel→Transient 503 | Sleep | Read→Ok requires_capture | Sleep | Cancel→Transient 503 | Sleep | Read→Ok requires_capture | Sleep | Cancel→Transient 500 | Sleep | Read→Ok requires_capture | Finish GaveUp",
    outcome: "GaveUp",
    reason: /^500$/
  },
  // A process that died in a cancel, or a request resumed by another process: read first.
  {
    name: "rerun after a crash in the cancel: read at once, then confirm with the same key",
    answers: [rerun, ok("canceled"), ok("canceled")],
    trace: "Cancel→NotSent rerun | Read→Ok canceled | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    name: "resumed after a stop: read first; still cancelable, so wait and cancel",
    answers: [resumed, ok("requires_capture"), ok("canceled")],
    trace: "Cancel→NotSent resumed | Read→Ok requires_capture | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    name: "chaos (a): a confirming cancel's process died and the read after the restart got a cut 200: not our replay",
    answers: [transient(503), ok("canceled"), rerun, transient(200), ok("canceled"), refused],
    trace:
      "Cancel→Transient 503 | Sleep | Read→Ok canceled | Cancel→NotSent rerun | Read→Transient 200 | Sleep | Read→Ok canceled | Cancel→Refused | Finish AlreadyCanceled",
    outcome: "AlreadyCanceled"
  },
  // 429: nothing was done.
  {
    name: "429s use no attempt: the same cancel again after Retry-After",
    answers: [throttled(1000), throttled(1000), throttled(1000), ok("canceled")],
    trace:
      "Cancel→Throttled | Sleep | Cancel→Throttled | Sleep | Cancel→Throttled | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    name: "429s are bounded too",
    answers: [throttled(), throttled(), throttled(), throttled(), throttled()],
    trace:
      "Cancel→Throttled | Sleep | Cancel→Throttled | Sleep | Cancel→Throttled | Sleep | Cancel→Throttled | Sleep | Cancel→Throttled | Finish GaveUp",
    outcome: "GaveUp",
    reason: /rate limited 5 times/
  },
  {
    name: "a 429 to a read: read again",
    answers: [refused, throttled(2000), ok("canceled")],
    trace: "Cancel→Refused | Read→Throttled | Sleep | Read→Ok canceled | Finish AlreadyCanceled",
    outcome: "AlreadyCanceled"
  },
  {
    name: "a 429 to a confirming cancel: confirm again, it counts no confirm",
    answers: [transient(), ok("canceled"), throttled(1000), ok("canceled")],
    trace:
      "Cancel→Transient - | Sleep | Read→Ok canceled | Cancel→Throttled | Sleep | Cancel→Ok canceled | Finish Canceled",
    outcome: "Canceled"
  },
  {
    name: "429s while learning an ambiguous cancel's fate: GaveUp says the fate is unknown",
    answers: [transient(), throttled(), throttled(), throttled(), throttled(), throttled()],
    trace:
      "Cancel→Transient - | Sleep | Read→Throttled | Sleep | Read→Throttled | Sleep | Read→Throttled | Sleep | Read→Throttled | Sleep | Read→Throttled | Finish GaveUp",
    outcome: "GaveUp",
    reason: new RegExp(Machine.unsettled)
  }
]

describe("Machine: scripts", () => {
  for (const c of cases) {
    it(c.name, () => {
      const played = play(c.answers)
      assert.strictEqual(played.trace, c.trace)
      assert.strictEqual(played.outcome._tag, c.outcome)
      assert.strictEqual(played.unused, 0, "every scripted answer was asked for")
      if (c.released !== undefined) {
        assert.strictEqual(played.outcome._tag === "Canceled" ? played.outcome.amountReleased : -1, c.released)
      }
      if (c.reason !== undefined) {
        const reason =
          played.outcome._tag === "GaveUp"
            ? played.outcome.lastError
            : played.outcome._tag === "NotCancelable"
              ? played.outcome.reason
              : ""
        assert.match(reason, c.reason)
      }
      // Calls counted: every answer but NotSent is one call.
      assert.strictEqual(
        played.outcome.apiCalls,
        c.answers.filter((a) => a._tag !== "NotSent").length,
        "API calls counted = calls answered"
      )
    })
  }

  it("counts attempts: answered cancels, confirms included; 429s and unsent cancels are none", () => {
    assert.strictEqual(play([ok("canceled")]).outcome.attempts, 1)
    assert.strictEqual(play([throttled(), throttled(), ok("canceled")]).outcome.attempts, 1)
    assert.strictEqual(play([rerun, ok("canceled"), ok("canceled")]).outcome.attempts, 1)
    assert.strictEqual(play([transient(), ok("canceled"), refused]).outcome.attempts, 2)
  })

  it("sleeps the client's backoff, jitter seeded by the execution; Retry-After capped at 60 s", () => {
    const first = play([transient(503), ok("requires_capture"), ok("canceled")])
    const sleeps = first.commands.filter((c) => c._tag === "Sleep").map((c) => (c as { millis: number }).millis)
    assert.deepStrictEqual(sleeps, [
      RetryPolicy.backoffMillis(limits.backoff, 0, Machine.jitter("exec-1/1")),
      RetryPolicy.backoffMillis(limits.backoff, 1, Machine.jitter("exec-1/2"))
    ])
    assert.isTrue(sleeps[0]! > 750 && sleeps[0]! <= 1000 && sleeps[1]! > 1500 && sleeps[1]! <= 2000)
    const hour = play([throttled(3_600_000), ok("canceled")])
    const slept = hour.commands.find((c) => c._tag === "Sleep") as { millis: number }
    assert.strictEqual(slept.millis, 60_000, "a Retry-After of an hour is no hour-long durable sleep")
    const short = play([throttled(2500), ok("canceled")])
    assert.strictEqual((short.commands.find((c) => c._tag === "Sleep") as { millis: number }).millis, 2500)
  })

  it("the same answers give the same commands (replay) and a step after Finish changes nothing", () => {
    const answers = [transient(503), ok("canceled"), transient(200), ok("canceled")]
    assert.deepStrictEqual(play(answers).commands, play(answers).commands)
    const played = play([ok("canceled")])
    const done = played.states[played.states.length - 1]!
    const [after, command] = Machine.step(done, ok("canceled"))
    assert.strictEqual(after.phase, "Done")
    assert.strictEqual(command._tag, "Finish")
  })
})
