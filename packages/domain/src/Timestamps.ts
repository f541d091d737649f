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

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/

// Date.parse rolls 2024-02-30 over to 2024-03-01 and 25:00 over to the next day: check that the
// parsed instant, seen at the input's own offset, still shows the fields that were written.
const fieldsSurvive = (match: RegExpExecArray, millis: number): boolean => {
  const zone = match[8]!
  const offsetMinutes =
    zone === "Z" || zone === "z"
      ? 0
      : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
  const local = new Date(millis + offsetMinutes * 60_000)
  return (
    local.getUTCFullYear() === Number(match[1]) &&
    local.getUTCMonth() + 1 === Number(match[2]) &&
    local.getUTCDate() === Number(match[3]) &&
    local.getUTCHours() === Number(match[4]) &&
    local.getUTCMinutes() === Number(match[5]) &&
    local.getUTCSeconds() === Number(match[6])
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
    const match = rfc3339.exec(input)
    const millis = match === null ? Number.NaN : Date.parse(input)
    if (match !== null && !Number.isNaN(millis) && fieldsSurvive(match, millis)) {
      return ParseResult.succeed(DateTime.unsafeMake(millis) as DateTime.Utc)
    }
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
