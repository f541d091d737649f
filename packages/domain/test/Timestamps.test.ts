import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"
import * as Timestamps from "../src/Timestamps.js"

const decode = Schema.decodeUnknownEither(Timestamps.Timestamp)
const encode = Schema.encodeSync(Timestamps.Timestamp)

describe("Timestamps", () => {
  it("decodes RFC 3339 in UTC and with offsets", () => {
    const utc = Either.getOrThrow(decode("2024-01-01T00:00:00Z"))
    assert.strictEqual(DateTime.toEpochMillis(utc), Date.UTC(2024, 0, 1))
    const offset = Either.getOrThrow(decode("2024-01-01T02:00:00+02:00"))
    assert.strictEqual(DateTime.toEpochMillis(offset), Date.UTC(2024, 0, 1))
    const millis = Either.getOrThrow(decode("2024-10-01T12:00:03.250Z"))
    assert.strictEqual(DateTime.toEpochMillis(millis) % 1000, 250)
  })

  it("encodes to the canonical Flex form", () => {
    assert.strictEqual(encode(Either.getOrThrow(decode("2024-01-01T00:00:00Z"))), "2024-01-01T00:00:00Z")
    assert.strictEqual(encode(Either.getOrThrow(decode("2024-01-01T00:00:00.5Z"))), "2024-01-01T00:00:00.500Z")
    assert.strictEqual(encode(Either.getOrThrow(decode("2024-01-01T02:00:00+02:00"))), "2024-01-01T00:00:00Z")
  })

  it("rejects anything that is not a full, valid date-time with a zone", () => {
    for (const bad of [
      "<string>",
      "",
      "2024-01-01",
      "2024-01-01T00:00:00",
      "January 1, 2024",
      "2024-02-30T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T25:00:00Z",
      "1704067200"
    ]) {
      const result = decode(bad)
      assert.isTrue(Either.isLeft(result), bad)
    }
    assert.isTrue(Either.isLeft(decode(1704067200)))
  })
})
