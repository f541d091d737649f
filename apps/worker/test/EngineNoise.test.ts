import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import * as EngineNoise from "../src/cli/EngineNoise.js"

/** What a logger wrapped by EngineNoise.quiet at `level` lets through of `effect`'s logs. */
const logged = (effect: Effect.Effect<void>, level: LogLevel.LogLevel) => {
  const seen: Array<unknown> = []
  const capture = Logger.make((options) => {
    seen.push(options.message)
  })
  return effect.pipe(
    Effect.provide(Logger.replace(Logger.defaultLogger, EngineNoise.quiet(capture, level))),
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.as(seen)
  )
}

const sharding = Effect.annotateLogs({ package: "@effect/cluster", module: "Sharding" })

describe("EngineNoise", () => {
  it.effect("drops the cluster's 'No healthy runners available', keeps it at debug, keeps everything else", () =>
    Effect.gen(function* () {
      const noise = Effect.logWarning("No healthy runners available").pipe(sharding)
      assert.deepStrictEqual(yield* logged(noise, LogLevel.Warning), [])
      assert.deepStrictEqual(yield* logged(noise, LogLevel.Debug), [["No healthy runners available"]])
      const other = Effect.logWarning("Shard lock lost").pipe(sharding)
      assert.deepStrictEqual(yield* logged(other, LogLevel.Warning), [["Shard lock lost"]])
      const elsewhere = Effect.logWarning("No healthy runners available")
      assert.deepStrictEqual(yield* logged(elsewhere, LogLevel.Warning), [["No healthy runners available"]])
    })
  )

  it("drops pg's queued-query deprecation, and no other warning", () => {
    const warning = (name: string, message: string) => Object.assign(new Error(message), { name })
    assert.isTrue(
      EngineNoise.expectedWarning(
        warning(
          "DeprecationWarning",
          "Calling client.query() when the client is already executing a query is deprecated and will be removed in pg@9.0."
        )
      )
    )
    assert.isFalse(EngineNoise.expectedWarning(warning("DeprecationWarning", "Buffer() is deprecated")))
    assert.isFalse(
      EngineNoise.expectedWarning(
        warning("Warning", "Calling client.query() when the client is already executing a query is deprecated")
      )
    )
  })
})
