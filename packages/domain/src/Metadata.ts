/**
 * Free-form key/value metadata that merchants attach to Flex objects: a map of strings.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @category schemas
 * @since 0.1.0
 */
export const Metadata = Schema.Record({ key: Schema.String, value: Schema.String }).annotations({
  identifier: "Metadata"
})

/**
 * @category models
 * @since 0.1.0
 */
export type Metadata = typeof Metadata.Type
