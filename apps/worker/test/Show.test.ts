/**
 * `show`'s numbering: the store keys an attempt by its step's position in the workflow (reads and
 * sleeps come between cancels: Cancel/1, Cancel/4, Cancel/7), a person counts 1, 2, 3 per generation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as Show from "../src/cli/Show.js"
import * as CancelRequest from "../src/core/CancelRequest.js"
import type * as Store from "../src/store/Store.js"

const at = (n: number) => `2026-12-01T12:00:0${n}.000Z`

const history = (generations: ReadonlyArray<ReadonlyArray<number>>): Store.History => ({
  request: CancelRequest.make("fpi_01JGD0Y3NGG6E82EJDQ8N86FNC"),
  acceptedAt: at(0),
  outcome: Option.none(),
  superseded: [],
  attempts: generations.flatMap((positions, g) =>
    positions.map((attempt, i) => ({ generation: g + 1, attempt, startedAt: at(i + 1), session: null }))
  )
})

describe("show", () => {
  it("numbers the attempts 1, 2, 3 within each generation, whatever their step positions", () => {
    const shown = history([
      [1, 4, 7],
      [1, 4]
    ])
    const text = Show.toText(shown)
    assert.deepStrictEqual(
      text.split("\n").flatMap((line) => line.match(/^ {2}(attempt \d+)/)?.[1] ?? []),
      ["attempt 1", "attempt 2", "attempt 3", "attempt 1", "attempt 2"]
    )
    const json = Show.toJson(shown)
    assert.deepStrictEqual(
      json.attempts.map((a) => [a.generation, a.attempt, a.step]),
      [
        [1, 1, "Cancel/1"],
        [1, 2, "Cancel/4"],
        [1, 3, "Cancel/7"],
        [2, 1, "Cancel/1"],
        [2, 2, "Cancel/4"]
      ]
    )
  })
})
