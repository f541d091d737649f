/**
 * Schema building blocks shared by the entity modules.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** Truncates a value for an error message so a hostile 1 MB string never lands in a log line. */
export const preview = (actual: unknown): string => {
  const text = typeof actual === "string" ? JSON.stringify(actual) : String(actual)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/**
 * An optional response field. Flex documents no nullability, and its docs show fields both omitted
 * and present, so absent and `null` are both accepted; each encodes back to what came in.
 */
export const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(Schema.NullOr(schema))

/**
 * An enum whose full value list Flex does not publish, on a field where a new value must not make a
 * whole response undecodable (an eligibility category deep inside an expanded product, say). Known
 * values keep their literal types for autocompletion; any other string passes through unchanged.
 */
export const openEnum = <const Literals extends ReadonlyArray<string>>(
  ...literals: Literals
): Schema.Schema<Literals[number] | (string & {})> =>
  Schema.Union(Schema.Literal(...literals), Schema.String) as unknown as Schema.Schema<Literals[number] | (string & {})>

/** A closed status enum: an unknown value fails with a message naming the value and the known ones. */
export const statusEnum = <const Literals extends ReadonlyArray<string>>(name: string, literals: Literals) =>
  Schema.Literal(...literals).annotations({
    identifier: name,
    message: (issue) => ({
      message: `Expected a known ${name} (${literals.join(", ")}), got ${preview(issue.actual)}`,
      override: true
    })
  })

/** A non-negative integer count (quantities, days): not money, so not branded as an amount. */
export const Count = Schema.Int.pipe(Schema.nonNegative()).annotations({ identifier: "Count" })
