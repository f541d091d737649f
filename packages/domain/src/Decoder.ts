/**
 * Decoders with the answers of Effect's `ParseResult.decodeUnknownEither`, found faster for valid input.
 *
 * Decoding a response spends most of its time in Effect's general parser rather than in the checks the
 * schema asks for. A decoder made here first runs a function compiled once from the schema's AST: plain
 * type checks, the schema's own filters and transformations, objects built as Effect builds them. When
 * that function accepts, its value is the answer; when it rejects, or meets something it leaves to
 * Effect, Effect's decoder runs and gives the answer, so every error is Effect's `ParseIssue`, with the
 * same path and message. Only the default parse options are supported.
 *
 * `FlexClient` decodes every response this way. The tests compare both decoders on mutated responses.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as Internal from "./internal/decoder.js"

/**
 * `ParseResult.decodeUnknownEither(schema)`, with a compiled fast path for valid input. Build it once
 * per schema and reuse it.
 *
 * @example
 * ```ts
 * import { Decoder, PaymentIntent } from "@flex/domain"
 *
 * declare const body: string // a response body
 * const decodeEnvelope = Decoder.decodeUnknownEither(PaymentIntent.Envelope)
 * const result = decodeEnvelope(JSON.parse(body)) // Either<Envelope, ParseIssue>
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const decodeUnknownEither = <A, I>(
  schema: Schema.Schema<A, I, never>
): ((input: unknown) => Either.Either<A, ParseResult.ParseIssue>) => {
  const slow = ParseResult.decodeUnknownEither(schema)
  let fast: Internal.Fast | undefined
  return (input) => {
    // Compiled on first use, so that building a decoder at module load costs nothing.
    fast ??= Internal.compile(schema.ast)
    const value = fast(input)
    return value === Internal.Reject || value === Internal.Bail ? slow(input) : Either.right(value as A)
  }
}
