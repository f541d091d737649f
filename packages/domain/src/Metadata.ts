/**
 * Free-form key/value metadata that merchants attach to Flex objects.
 *
 * Flex documents `metadata` as "an object" (the payment intent's table adds "string map") without
 * saying its values must be strings, and Stripe's rule (string values only) is nowhere stated. So a
 * value is any JSON value: a response whose metadata holds a number or a nested object still decodes,
 * rather than failing for every service that reads the intent. Read a value with {@link string} when
 * you expect a string.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Keys are strings; values are any JSON value (see the module's note on why).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Metadata = Schema.Record({
  key: Schema.String,
  value: Schema.Unknown.annotations({ identifier: "MetadataValue", description: "any JSON value" })
}).annotations({ identifier: "Metadata" })

/**
 * @category models
 * @since 0.1.0
 */
export type Metadata = typeof Metadata.Type

/**
 * The value at `key` when it is a string, else `undefined`.
 *
 * @example
 * ```ts
 * import { Metadata } from "@flex/domain"
 *
 * Metadata.string({ order: "A-1", items: 3 }, "order") // "A-1"
 * Metadata.string({ order: "A-1", items: 3 }, "items") // undefined
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const string = (metadata: Metadata | null | undefined, key: string): string | undefined => {
  const value = metadata?.[key]
  return typeof value === "string" ? value : undefined
}
