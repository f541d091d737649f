/**
 * The payment-intent resource: `cancel`, `retrieve`, `list` and `listAll`, as stripe-node's
 * `resources/PaymentIntents.ts` groups them. Each endpoint's errors are declared once, here, and both
 * the response check and the endpoint's error type are made from that declaration. A new resource is
 * a module like this one and a line in `FlexClient.make`.
 *
 * @internal
 */
import { DecodeFailure, Decoder, Ids, PaymentIntent } from "@flex/domain"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as FlexError from "../../FlexError.js"
import * as Request from "../request.js"

/**
 * What each endpoint documents beyond the errors every call can meet (connection, timeout, decode,
 * server): a cancel can meet any status, and is the one call that conflicts (409) with a concurrent
 * change of the same intent; a GET conflicts with nothing, so a 409 there is unexpected (a
 * `ServerError`); a list has no single object to be missing either.
 */
export const errors = {
  cancel: Request.errors(
    "AuthenticationError",
    "PermissionError",
    "NotFoundError",
    "InvalidRequestError",
    "ConflictError",
    "RateLimitError"
  ),
  retrieve: Request.errors(
    "AuthenticationError",
    "PermissionError",
    "NotFoundError",
    "InvalidRequestError",
    "RateLimitError"
  ),
  list: Request.errors("AuthenticationError", "PermissionError", "InvalidRequestError", "RateLimitError")
}

/**
 * The errors of `paymentIntents.cancel`: every client error.
 *
 * @category errors
 * @since 0.1.0
 */
export type CancelError = Request.ErrorOfSet<typeof errors.cancel>

/**
 * The errors of `paymentIntents.retrieve`: no 409, a GET conflicts with nothing (an unexpected one is
 * a `ServerError`).
 *
 * @category errors
 * @since 0.1.0
 */
export type RetrieveError = Request.ErrorOfSet<typeof errors.retrieve>

/**
 * The errors of `paymentIntents.list` and `listAll`: no 404 and no 409.
 *
 * @category errors
 * @since 0.1.0
 */
export type ListError = Request.ErrorOfSet<typeof errors.list>

/**
 * @category models
 * @since 0.1.0
 */
export interface CancelOptions extends Request.RequestOptions {
  /**
   * The `Idempotency-Key` to send. Without one, the client generates a key per call, sent unchanged on
   * every retry of that call. Pass your own, derived from something durable, to make a cancel safe to
   * repeat across process restarts.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Query parameters of `GET /v1/payment_intents`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListParams {
  /** Page size, 1 to 100 (Flex's default is 10). */
  readonly limit?: number | undefined
  /** A payment intent ID: the page after it (older intents). */
  readonly starting_after?: string | undefined
  /** A payment intent ID: the page before it (newer intents). */
  readonly ending_before?: string | undefined
  /** Only this customer's intents. */
  readonly customer?: string | undefined
  /** Only intents of this checkout session. */
  readonly checkout_session?: string | undefined
  /** Expand references, e.g. `"customer"`. */
  readonly expand?: string | undefined
  /** Only intents created in the last N days. */
  readonly interval?: number | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface PaymentIntents {
  /**
   * `POST /v1/payment_intents/{id}/cancel`: cancels an intent and releases any authorized amount. With
   * `schema`, the intent is decoded with it (see `SchemaOptions`).
   */
  readonly cancel: {
    <A>(id: string, options: CancelOptions & Request.SchemaOptions<A>): Effect.Effect<A, CancelError>
    (id: string, options?: CancelOptions): Effect.Effect<PaymentIntent.PaymentIntent, CancelError>
  }
  /** `GET /v1/payment_intents/{id}`. With `schema`, the intent is decoded with it (see `SchemaOptions`). */
  readonly retrieve: {
    <A>(id: string, options: Request.RequestOptions & Request.SchemaOptions<A>): Effect.Effect<A, RetrieveError>
    (id: string, options?: Request.RequestOptions): Effect.Effect<PaymentIntent.PaymentIntent, RetrieveError>
  }
  /** `GET /v1/payment_intents`: one page, newest first. */
  readonly list: (
    params?: ListParams,
    options?: Request.RequestOptions
  ) => Effect.Effect<ReadonlyArray<PaymentIntent.PaymentIntent>, ListError>
  /**
   * Every intent matching `params`, page after page through `starting_after` (pages of `limit`,
   * default 100). Flex sends no `has_more`, so a page shorter than the limit is the last.
   */
  readonly listAll: (
    params?: Omit<ListParams, "starting_after" | "ending_before">,
    options?: Request.RequestOptions
  ) => Stream.Stream<PaymentIntent.PaymentIntent, ListError>
}

const decodeEnvelope = Request.decoder(PaymentIntent.Envelope)
type EnvelopeDecoder = (u: unknown) => Either.Either<{ readonly payment_intent: unknown }, ParseResult.ParseIssue>
/** One decoder per caller schema, compiled once (callers pass the same schema object on every call). */
const viewDecoders = new WeakMap<Schema.Schema.Any, EnvelopeDecoder>()
const envelopeDecoder = (schema: Schema.Schema<any, any, never> | undefined): EnvelopeDecoder => {
  if (schema === undefined) return decodeEnvelope
  let decoder = viewDecoders.get(schema)
  if (decoder === undefined) {
    decoder = Request.decoder(Schema.Struct({ payment_intent: schema }))
    viewDecoders.set(schema, decoder)
  }
  return decoder
}
const decodeList = Request.decoder(PaymentIntent.ListEnvelope)
const decodeId = Decoder.decodeUnknownEither(Ids.PaymentIntentId)

// A captured stack trace would only ever point into this module, and costs an `Error` per call.
const spanOptions = { captureStackTrace: false } as const

// A key is a header value: printable ASCII, at most 255 characters as Stripe allows.
const validIdempotencyKey = /^[\x21-\x7e]{1,255}$/

/** IDs go into the path: check them first, so no malformed ID (or `../`) ever reaches the wire. */
const checkId = (method: "GET" | "POST", route: string, id: string) => {
  const decoded = decodeId(id)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  const shown = encodeURIComponent(id.length > 40 ? `${id.slice(0, 40)}...` : id)
  return Effect.fail(
    new FlexError.InvalidRequestError({
      method,
      path: route.replace("{id}", shown),
      status: 0,
      code: "invalid_payment_intent_id",
      detail: DecodeFailure.fromParseError(decoded.left).message
    })
  )
}

/**
 * The resource over a client's settings.
 */
export const make = (client: Request.Client): PaymentIntents => {
  const cancel = (id: string, options?: CancelOptions & Partial<Request.SchemaOptions<unknown>>) =>
    Effect.flatMap(checkId("POST", "/v1/payment_intents/{id}/cancel", id), (intentId) => {
      const path = `/v1/payment_intents/${intentId}/cancel`
      const given = options?.idempotencyKey
      if (given !== undefined && !validIdempotencyKey.test(given)) {
        return Effect.fail(
          new FlexError.InvalidRequestError({
            method: "POST",
            path,
            status: 0,
            code: "invalid_idempotency_key",
            detail: "an idempotency key is 1 to 255 printable ASCII characters without spaces"
          })
        )
      }
      // Fixed here, outside the retried attempt, so every attempt of this call sends the same key.
      const idempotencyKey = given ?? `flex-ts-retry-${crypto.randomUUID()}`
      return Effect.map(
        Request.run(client.settings(options), {
          method: "POST",
          path,
          route: "/v1/payment_intents/{id}/cancel",
          idempotencyKey,
          decode: envelopeDecoder(options?.schema),
          errors: errors.cancel
        }),
        (envelope) => envelope.payment_intent
      )
    }).pipe(Request.withSpan("FlexClient.paymentIntents.cancel", spanOptions))

  const retrieve = (id: string, options?: Request.RequestOptions & Partial<Request.SchemaOptions<unknown>>) =>
    Effect.flatMap(checkId("GET", "/v1/payment_intents/{id}", id), (intentId) =>
      Effect.map(
        Request.run(client.settings(options), {
          method: "GET",
          path: `/v1/payment_intents/${intentId}`,
          route: "/v1/payment_intents/{id}",
          decode: envelopeDecoder(options?.schema),
          errors: errors.retrieve
        }),
        (envelope) => envelope.payment_intent
      )
    ).pipe(Request.withSpan("FlexClient.paymentIntents.retrieve", spanOptions))

  const list: PaymentIntents["list"] = (params = {}, options) => {
    const urlParams: Record<string, string> = {}
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) urlParams[key] = String(value)
    }
    return Effect.map(
      Request.run(client.settings(options), {
        method: "GET",
        path: "/v1/payment_intents",
        route: "/v1/payment_intents",
        urlParams,
        decode: decodeList,
        errors: errors.list
      }),
      (envelope) => envelope.payment_intents
    ).pipe(Request.withSpan("FlexClient.paymentIntents.list", spanOptions))
  }

  const listAll: PaymentIntents["listAll"] = (params = {}, options) => {
    const limit = params.limit ?? 100
    return Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
      Effect.map(list({ ...params, limit, starting_after: cursor }, options), (page) => {
        const last = page[page.length - 1]
        const next = page.length < limit || last === undefined ? Option.none() : Option.some(last.payment_intent_id)
        return [Chunk.unsafeFromArray(page), next] as const
      })
    )
  }

  // One implementation; the overloads only say what `schema` decodes to (`unknown` here).
  return { cancel: cancel as PaymentIntents["cancel"], retrieve: retrieve as PaymentIntents["retrieve"], list, listAll }
}
