/**
 * Timestamps on the wire are RFC 3339 strings (`2024-01-01T00:00:00Z`); they decode to `DateTime.Utc`.
 *
 * Parsing is strict: only a full date-time with a zone offset is accepted, because `Date.parse` would
 * otherwise turn a placeholder, a date without a time or an ambiguous local time into a wrong instant.
 * Encoding writes the canonical Flex form: UTC with a `Z`, milliseconds only when they are non-zero.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { preview } from "./internal/schema.js"

// RFC 3339 `date-time` (section 5.6) with what Flex sends: `T` or `t`, `Z`, `z` or a numeric offset, and 1 to 9
// fraction digits (milliseconds kept, the rest cut off). Read by character code rather than by a regular
// expression and `Date.parse`: one response holds a dozen timestamps or more, and this runs for each.
// The rules are exactly those of the regular expression
// /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/ plus "no field rolls
// over" (2024-02-30 is not 2024-03-01, 24:00 is not midnight), which the tests check against that
// regular expression and V8's `Date.parse`.

/** The value of two ASCII digits at `i`, or -1. */
const twoDigits = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
      ? 29
      : 28
    : month === 4 || month === 6 || month === 9 || month === 11
      ? 30
      : 31

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/**
 * The instant of a strict RFC 3339 date-time in epoch milliseconds, or `NaN`.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseMillis = (input: string): number => {
  const length = input.length
  if (
    length < 20 ||
    input.charCodeAt(4) !== 45 || // -
    input.charCodeAt(7) !== 45 ||
    (input.charCodeAt(10) | 0x20) !== 116 || // T or t
    input.charCodeAt(13) !== 58 || // :
    input.charCodeAt(16) !== 58
  ) {
    return Number.NaN
  }
  const century = twoDigits(input, 0)
  const yy = twoDigits(input, 2)
  const month = twoDigits(input, 5)
  const day = twoDigits(input, 8)
  const hour = twoDigits(input, 11)
  const minute = twoDigits(input, 14)
  const second = twoDigits(input, 17)
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return Number.NaN
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN
  const year = century * 100 + yy
  if (day > daysInMonth(year, month)) return Number.NaN
  // The fraction: 1 to 9 digits, of which the first 3 are milliseconds.
  let i = 19
  let millis = 0
  if (input.charCodeAt(i) === 46) {
    i++
    const start = i
    for (; i < length; i++) {
      const digit = input.charCodeAt(i) - 48
      if (digit < 0 || digit > 9) break
      if (i - start < 3) millis = millis * 10 + digit
    }
    const digits = i - start
    if (digits < 1 || digits > 9) return Number.NaN
    for (let d = digits; d < 3; d++) millis *= 10
  }
  // The zone: Z, z, or +hh:mm / -hh:mm with hh ≤ 23 and mm ≤ 59, ending the string.
  let offsetMinutes = 0
  const zone = input.charCodeAt(i)
  if ((zone | 0x20) === 122) {
    if (i + 1 !== length) return Number.NaN
  } else if (zone === 43 || zone === 45) {
    if (i + 6 !== length || input.charCodeAt(i + 3) !== 58) return Number.NaN
    const hours = twoDigits(input, i + 1)
    const minutes = twoDigits(input, i + 4)
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return Number.NaN
    offsetMinutes = (zone === 45 ? -1 : 1) * (hours * 60 + minutes)
  } else {
    return Number.NaN
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis
  )
}

const format = (dt: DateTime.Utc): string => DateTime.formatIso(dt).replace(".000Z", "Z")

const Utc = Schema.DateTimeUtcFromSelf.annotations({
  arbitrary: () => (fc) =>
    fc
      .integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2199, 11, 31) })
      .map((millis) => DateTime.unsafeMake(millis) as DateTime.Utc)
})

/**
 * An RFC 3339 date-time string decoded to `DateTime.Utc`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Timestamp = Schema.transformOrFail(Schema.String, Utc, {
  strict: true,
  decode: (input, _, ast) => {
    const millis = parseMillis(input)
    if (!Number.isNaN(millis)) return ParseResult.succeed(DateTime.unsafeMake(millis) as DateTime.Utc)
    return ParseResult.fail(
      new ParseResult.Type(
        ast,
        input,
        `Expected an RFC 3339 timestamp such as 2024-01-01T00:00:00Z, got ${preview(input)}`
      )
    )
  },
  encode: (dt) => ParseResult.succeed(format(dt))
}).annotations({ identifier: "Timestamp" })

/**
 * @category models
 * @since 0.1.0
 */
export type Timestamp = typeof Timestamp.Type

/**
 * Formats a timestamp the way Flex sends it.
 *
 * @category formatting
 * @since 0.1.0
 */
export const toWire: (dt: DateTime.Utc) => string = format
