import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, FastCheck, Schema } from "effect"
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

/**
 * The rules `parseMillis` implements, as they were first written: the regular expression, `Date.parse`,
 * and a check that no field rolled over. `parseMillis` must agree with it on every string.
 */
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/
const referenceMillis = (input: string): number => {
  const match = rfc3339.exec(input)
  if (match === null) return Number.NaN
  const millis = Date.parse(input)
  if (Number.isNaN(millis)) return Number.NaN
  const zone = match[8]!
  const offsetMinutes =
    zone === "Z" || zone === "z"
      ? 0
      : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
  const local = new Date(millis + offsetMinutes * 60_000)
  const survives =
    local.getUTCFullYear() === Number(match[1]) &&
    local.getUTCMonth() + 1 === Number(match[2]) &&
    local.getUTCDate() === Number(match[3]) &&
    local.getUTCHours() === Number(match[4]) &&
    local.getUTCMinutes() === Number(match[5]) &&
    local.getUTCSeconds() === Number(match[6])
  return survives ? millis : Number.NaN
}

const agrees = (input: string) => {
  const expected = referenceMillis(input)
  const actual = Timestamps.parseMillis(input)
  assert.isTrue(Object.is(actual, expected), `${JSON.stringify(input)}: ${actual}, expected ${expected}`)
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")
const twoDigits = FastCheck.oneof(FastCheck.integer({ min: 0, max: 99 }), FastCheck.integer({ min: 0, max: 31 }))
/** Strings of the timestamp's shape, with fields in and out of range and every zone form. */
const shaped = FastCheck.record({
  year: FastCheck.oneof(
    FastCheck.integer({ min: 0, max: 9999 }),
    FastCheck.constantFrom(0, 4, 100, 400, 1900, 1970, 2000, 2024, 2100, 9999)
  ),
  month: FastCheck.oneof(twoDigits, FastCheck.integer({ min: 1, max: 12 })),
  day: FastCheck.oneof(twoDigits, FastCheck.integer({ min: 28, max: 31 })),
  hour: FastCheck.oneof(twoDigits, FastCheck.integer({ min: 22, max: 25 })),
  minute: FastCheck.oneof(twoDigits, FastCheck.integer({ min: 58, max: 61 })),
  second: FastCheck.oneof(twoDigits, FastCheck.integer({ min: 58, max: 61 })),
  t: FastCheck.constantFrom("T", "t", " ", "x"),
  fraction: FastCheck.oneof(
    FastCheck.constant(""),
    FastCheck.stringMatching(/^\.\d{0,11}$/),
    FastCheck.constantFrom(".", ".5", ".999", ".9999", ".123456789", ".1234567890")
  ),
  zone: FastCheck.oneof(
    FastCheck.constantFrom("Z", "z", "", "+00:00", "-00:00", "+23:59", "-23:59", "+24:00", "+00:60", "UTC", "+0100"),
    FastCheck.tuple(FastCheck.constantFrom("+", "-"), twoDigits, twoDigits).map(
      ([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`
    )
  )
}).map(
  (p) =>
    `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}${p.t}${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction}${p.zone}`
)
/** One character replaced, inserted or removed. */
const mutated = FastCheck.tuple(
  shaped,
  FastCheck.nat(),
  FastCheck.constantFrom("0", "9", "-", ":", "T", "Z", "+", ".", "a", "\u0660", ""),
  FastCheck.boolean()
).map(([s, at, c, insert]) => {
  const i = at % (s.length + 1)
  return insert ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + c + s.slice(i + 1)
})

describe("Timestamps.parseMillis agrees with the regular expression and Date.parse", () => {
  it("on timestamp-shaped strings, in range or not", () => {
    FastCheck.assert(FastCheck.property(shaped, agrees), { numRuns: 20_000 })
  })

  it("on strings one character away from that shape", () => {
    FastCheck.assert(FastCheck.property(mutated, agrees), { numRuns: 20_000 })
  })

  it("on any string", () => {
    FastCheck.assert(FastCheck.property(FastCheck.string({ maxLength: 40 }), agrees), { numRuns: 5_000 })
  })

  it("on every day of every month of leap-rule years, at the edges of the day", () => {
    for (const year of [0, 1, 4, 100, 400, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 32; day++) {
          for (const time of ["00:00:00Z", "23:59:59.999Z", "12:30:00+14:00", "00:00:00-23:59"]) {
            agrees(`${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${time}`)
          }
        }
      }
    }
  })
})
