import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option } from "effect"
import * as Durations from "../src/core/Durations.js"

const millis = (text: string, options?: Durations.ParseOptions) =>
  Option.map(Durations.parse(text, options), Duration.toMillis).pipe(Option.getOrUndefined)

describe("Durations", () => {
  it("reads the short forms, Effect's long ones, and bare seconds only where asked", () => {
    assert.strictEqual(millis("500ms"), 500)
    assert.strictEqual(millis("2s"), 2000)
    assert.strictEqual(millis(" 5m "), 300_000)
    assert.strictEqual(millis("6h"), 6 * 3_600_000)
    assert.strictEqual(millis("6d"), 6 * 86_400_000)
    assert.strictEqual(millis("1.5s"), 1500)
    assert.strictEqual(millis("500 millis"), 500)
    assert.strictEqual(millis("2 seconds"), 2000)
    assert.strictEqual(millis("1 minute"), 60_000)
    assert.strictEqual(millis("30", { bareSeconds: true }), 30_000)
    for (const bad of ["30", "", "2 s x", "-2s", "-1 seconds", "2 parsecs", "s", "2x"]) {
      assert.isUndefined(millis(bad), bad)
    }
  })

  it.effect("a setting names itself and the forms it takes when refused", () =>
    Effect.gen(function* () {
      const read = (value: string, options: Durations.ConfigOptions) =>
        Effect.withConfigProvider(
          Durations.config("FLEX_X", options),
          ConfigProvider.fromMap(new Map([["FLEX_X", value]]))
        )
      assert.strictEqual(Duration.toMillis(yield* read("2s", { default: Duration.seconds(1) })), 2000)
      const refused = yield* Effect.flip(read("2 parsecs", { default: Duration.seconds(1) }))
      assert.include(
        String(refused),
        "FLEX_X must be a duration above 0: 500ms, 2s, 5m, 6h, 6d, or 500 millis, 2 seconds"
      )
      assert.strictEqual(Duration.toMillis(yield* read("0s", { default: Duration.seconds(1), zero: true })), 0)
      yield* Effect.flip(read("0s", { default: Duration.seconds(1) }))
    })
  )
})
