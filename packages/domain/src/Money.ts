/**
 * Amounts of money in the smallest currency unit.
 *
 * Flex sells in US dollars only and sends every amount as an integer number of cents, with no
 * `currency` field. A fraction or a negative number is never a valid amount, so it fails to decode
 * rather than being rounded: a wrong amount would mislead whoever reconciles the books.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { preview } from "./internal/schema.js"

/**
 * A non-negative integer number of cents.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Amount = Schema.Number.pipe(
  Schema.filter((n) => Number.isSafeInteger(n) && n >= 0, {
    message: (issue) => ({
      message: `Expected an amount in cents (a non-negative whole number), got ${preview(issue.actual)}`,
      override: true
    }),
    arbitrary: () => (fc) => fc.integer({ min: 0, max: 10_000_000_00 })
  }),
  Schema.brand("Amount"),
  Schema.annotations({ identifier: "Amount", description: "an amount in cents" })
)

/**
 * @category models
 * @since 0.1.0
 */
export type Amount = typeof Amount.Type

/**
 * Builds an amount from a trusted number of cents; throws on a fraction or a negative number.
 *
 * @category constructors
 * @since 0.1.0
 */
export const cents = (n: number): Amount => Amount.make(n)

/**
 * The zero amount.
 *
 * @category constructors
 * @since 0.1.0
 */
export const zero: Amount = cents(0)

/**
 * Adds amounts.
 *
 * @category math
 * @since 0.1.0
 */
export const sum = (amounts: Iterable<Amount>): Amount => {
  let total = 0
  for (const amount of amounts) total += amount
  return cents(total)
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" })

/**
 * Formats an amount for people, e.g. `$1,234.50`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (amount: Amount): string => usd.format(amount / 100)
