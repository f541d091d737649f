/**
 * The wire form of Flex objects, for services that share the types without using Effect.
 *
 * Every entity has two types: the decoded one (`PaymentIntent.PaymentIntent`: branded IDs, `DateTime.Utc`
 * timestamps, a `Redacted` client secret), for Effect code, and its wire form (`PaymentIntent.Json`, the
 * same as `PaymentIntent.PaymentIntentEncoded`): the JSON Flex sends, with snake_case names, strings for
 * IDs and timestamps, numbers for amounts. The wire form is the one to put in a message, a queue or a
 * response to another service: `JSON.stringify` and `JSON.parse` keep it intact.
 *
 * Each entity module has a `parse` / `safeParse` pair over its wire form, built here. They check
 * everything the decoder checks (ID prefixes, whole non-negative amounts, real dates, known statuses)
 * and return the wire form with unknown fields dropped; neither needs anything from Effect.
 *
 * @example
 * ```ts
 * import { PaymentIntent } from "@flex/domain"
 *
 * const result = PaymentIntent.safeParse(JSON.parse('{"payment_intent_id": "nope"}'))
 * if (!result.success) console.log(result.error.path, result.error.reason) // "payment_intent_id", "Expected …"
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as DecodeFailure from "./DecodeFailure.js"
import * as Decoder from "./Decoder.js"

/**
 * What `parse` throws and `safeParse` returns for input that is not a valid object of the wire form:
 * a plain `Error` naming the offending field.
 *
 * @category errors
 * @since 0.1.0
 */
export class ParseFailure extends Error {
  /**
   * The dotted path of the offending field (`invoice.status`, `items[0].price`); `""` for the whole value.
   *
   * @since 0.1.0
   */
  readonly path: string
  /**
   * What was wrong with it, e.g. `Expected a known invoice status (…), got "pending"`.
   *
   * @since 0.1.0
   */
  readonly reason: string
  /**
   * What was parsed, e.g. `PaymentIntent`.
   *
   * @since 0.1.0
   */
  readonly entity: string

  constructor(entity: string, failure: DecodeFailure.DecodeFailure) {
    super(`Invalid ${entity}${failure.path === "" ? "" : ` at ${failure.path}`}: ${failure.message}`)
    this.path = failure.path
    this.reason = failure.message
    this.entity = entity
  }

  override get name(): string {
    return "ParseFailure"
  }
}

/**
 * The answer of `safeParse`, shaped as zod's and valibot's are.
 *
 * @category models
 * @since 0.1.0
 */
export type SafeParseResult<A> =
  | { readonly success: true; readonly data: A }
  | { readonly success: false; readonly error: ParseFailure }

/**
 * A `parse` / `safeParse` pair over the wire form `A`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Parser<A> {
  /** The input in its wire form (unknown fields dropped); throws a {@link ParseFailure} when it is not valid. */
  readonly parse: (input: unknown) => A
  /** As `parse`, but returns `{ success: false, error }` instead of throwing. */
  readonly safeParse: (input: unknown) => SafeParseResult<A>
}

/**
 * A parser over the wire form of any schema of this package (an entity, an envelope): it decodes with
 * the schema and encodes the result back, so what it returns is exactly the wire form Flex sends,
 * checked. `name` defaults to the schema's identifier.
 *
 * @example
 * ```ts
 * import { Json, PaymentIntent } from "@flex/domain"
 *
 * const envelope = Json.parser(PaymentIntent.Envelope)
 * declare const body: unknown
 * const intent = envelope.parse(body).payment_intent // PaymentIntent.Json
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const parser = <A, I>(schema: Schema.Schema<A, I, never>, name?: string): Parser<I> => {
  const entity = name ?? Option.getOrElse(SchemaAST.getIdentifierAnnotation(schema.ast), () => "value")
  const decode = Decoder.decodeUnknownEither(schema)
  const encode = ParseResult.encodeEither(schema)
  const safeParse = (input: unknown): SafeParseResult<I> => {
    const decoded = decode(input)
    const encoded = Either.flatMap(decoded, encode)
    return Either.isRight(encoded)
      ? { success: true, data: encoded.right }
      : { success: false, error: new ParseFailure(entity, DecodeFailure.fromParseError(encoded.left)) }
  }
  return {
    parse: (input) => {
      const result = safeParse(input)
      if (result.success) return result.data
      throw result.error
    },
    safeParse
  }
}
