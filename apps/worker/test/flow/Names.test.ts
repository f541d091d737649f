/**
 * The step names of stored executions. An execution that was in flight when a process stopped is
 * replayed by the next one: every step it already took returns its stored result, found by name.
 * If a change made the machine issue other commands for the same answers (or name them otherwise),
 * a stored execution would replay into different steps: a cancel sent where a read was due. These
 * sequences are pinned; a change that breaks one must come with an upgrade path for stored requests.
 */
import { assert, describe, it } from "@effect/vitest"
import * as CancelWorkflow from "../../src/flow/CancelWorkflow.js"
import type * as Machine from "../../src/flow/Machine.js"
import { missing, ok, play, refused, rerun, resumed, throttled, transient } from "./support/script.js"

const names = (answers: ReadonlyArray<Machine.Event>): string =>
  play(answers)
    .commands.map((command, i) => CancelWorkflow.stepName(command, i + 1))
    .join(" ")

describe("the step names stored executions replay by", () => {
  const pinned: ReadonlyArray<readonly [string, ReadonlyArray<Machine.Event>, string]> = [
    ["happy path", [ok("canceled")], "Cancel/1 Record/2"],
    ["not found", [missing], "Cancel/1 Record/2"],
    ["refused, classified", [refused, ok("canceled")], "Cancel/1 Read/2 Record/3"],
    [
      "refused, cancelable, again",
      [refused, ok("requires_capture"), ok("canceled")],
      "Cancel/1 Read/2 Sleep/3 Cancel/4 Record/5"
    ],
    [
      "ambiguous, read, again",
      [transient(503), ok("requires_capture"), ok("canceled")],
      "Cancel/1 Sleep/2 Read/3 Sleep/4 Cancel/5 Record/6"
    ],
    [
      "ambiguous, canceled, confirmed",
      [transient(), ok("canceled"), ok("canceled")],
      "Cancel/1 Sleep/2 Read/3 Cancel/4 Record/5"
    ],
    ["rerun after a crash", [rerun, ok("canceled"), refused], "Cancel/1 Read/2 Cancel/3 Record/4"],
    [
      "resumed after a stop",
      [resumed, ok("requires_capture"), ok("canceled")],
      "Cancel/1 Read/2 Sleep/3 Cancel/4 Record/5"
    ],
    ["429 then ok", [throttled(1000), ok("canceled")], "Cancel/1 Sleep/2 Cancel/3 Record/4"]
  ]
  for (const [name, answers, expected] of pinned) {
    it(name, () => assert.strictEqual(names(answers), expected))
  }
})
