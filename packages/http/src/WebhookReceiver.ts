/**
 * Receiving Flex webhooks with `@effect/platform`'s HTTP server: read the request's raw body, verify its
 * signature (`Webhook.verify` of `@flex/domain`) and decode its event, then hand the event to your code.
 *
 * {@link toHttpApp} answers for you:
 *
 * | Outcome                                                                | Status | Why                                                  |
 * | ---------------------------------------------------------------------- | ------ | ---------------------------------------------------- |
 * | your handler succeeded                                                 | 204    | (or the response your handler returns)               |
 * | a signature header missing or malformed, no signature matching, a late timestamp | 400 | not shown to come from Flex: refused          |
 * | the body could not be read                                             | 400    |                                                      |
 * | the body is larger than `maxBodyBytes` (1 MiB by default)              | 413    | refused before it is buffered or verified            |
 * | signed by Flex, but not an event this version can read                 | 422    | genuine but unreadable: retried by Flex, someone looks |
 * | a secret that is not a signing secret                                  | 500    | the receiver's configuration; logged, never shown    |
 * | your handler failed                                                    | 500    | Flex retries; your handler's error is the app's error |
 *
 * 422 rather than 400 for a signed body that is not an event, as Flex's own plugin answers for payloads it
 * cannot handle: the two need different people (a forged request is noise; a signed one that does not
 * decode is a format change or a bug), and the status tells them apart in access logs. An event of a type
 * this version does not know is not an error: it reaches the handler as `WebhookEvent.UnknownEvent`.
 *
 * Every error answer is `{"error": {"type", "message"}}`; the messages carry the delivery's ID when known
 * and never a secret. Deliveries can repeat (a retry, a redelivery): deduplicate on `event.event_id`.
 *
 * @since 0.1.0
 */

import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Webhook from "@flex/domain/Webhook"
import type * as WebhookError from "@flex/domain/WebhookError"
import type * as WebhookEvent from "@flex/domain/WebhookEvent"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * The endpoint's signing secret (`whsec_…` / `fwhsec_…`, the `signing_secret` Flex returned when the
   * webhook was created), or several during a rotation.
   */
  readonly secret: Webhook.Secrets
  /** How far the signed timestamp may be from now. Defaults to 5 minutes. */
  readonly tolerance?: Duration.DurationInput | undefined
  /**
   * The largest body read, in bytes; a larger one is refused (413) before anything is verified, so a
   * stranger cannot make the receiver buffer without bound. Defaults to {@link defaultMaxBodyBytes}.
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The default body limit: 1 MiB. Flex documents no payload size; its events carry one resource (a
 * payment intent with its customer, invoice and subscription is about 4 KB).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMaxBodyBytes = 1024 * 1024

/**
 * The current request's event: its raw body read and verified against `secret`, then decoded. Fails with
 * the `WebhookError` of `@flex/domain`, or the server's `RequestError` when the body cannot be read.
 *
 * @category receiving
 * @since 0.1.0
 */
export const event = (
  options: Options
): Effect.Effect<
  WebhookEvent.WebhookEvent,
  WebhookError.WebhookError | HttpServerError.RequestError,
  HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    // The bytes as received: a body parsed and serialised again would not match its signature.
    const limit = options.maxBodyBytes ?? defaultMaxBodyBytes
    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > limit) {
      return yield* new HttpServerError.RequestError({
        request,
        reason: "Decode",
        description: `body too large: over ${limit} bytes`
      })
    }
    const body = new Uint8Array(
      yield* IncomingMessage.withMaxBodySize(request.arrayBuffer, Option.some(FileSystem.Size(limit)))
    )
    return yield* Webhook.constructEvent(body, request.headers, options.secret, { tolerance: options.tolerance })
  })

const answer = (status: number, type: string, message: string): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ error: { type, message } }, { status })

/**
 * The HTTP answer for a refused request (see the module's table).
 *
 * @category receiving
 * @since 0.1.0
 */
export const toResponse = (
  error: WebhookError.WebhookError | HttpServerError.RequestError
): HttpServerResponse.HttpServerResponse => {
  switch (error._tag) {
    case "RequestError":
      return error.description?.startsWith("body too large") === true
        ? answer(
            413,
            "RequestError",
            `The request body is too large (${error.description.slice("body too large: ".length)})`
          )
        : answer(400, "RequestError", "The request body could not be read")
    case "InvalidPayloadError":
      return answer(422, error._tag, error.message)
    case "InvalidSecretError":
      // The receiver's own configuration: say so to the operator, not to whoever sent the request.
      return answer(500, "ConfigurationError", "The webhook receiver is misconfigured")
    default:
      return answer(400, error._tag, error.message)
  }
}

/**
 * An `HttpApp` for a webhook endpoint: verifies and decodes each request, runs `handle` with the event,
 * and answers 204 when it succeeds (or the response it returns). Refused requests are answered as the
 * module's table says and logged at warning level (a misconfigured secret at error level) without
 * reaching `handle`; a failure of `handle` is the app's failure (a 500 from the server, which Flex retries).
 *
 * @example
 * ```ts
 * import { HttpRouter } from "@effect/platform"
 * import { WebhookReceiver } from "@flex/http"
 * import { Effect, Redacted } from "effect"
 *
 * const webhooks = WebhookReceiver.toHttpApp({ secret: Redacted.make(process.env.FLEX_WEBHOOK_SECRET!) }, (event) =>
 *   Effect.log(`received ${event.event_type} ${event.event_id}`)
 * )
 * const router = HttpRouter.empty.pipe(HttpRouter.post("/webhooks/flex", webhooks))
 * ```
 *
 * @category receiving
 * @since 0.1.0
 */
export const toHttpApp = <E, R>(
  options: Options,
  handle: (event: WebhookEvent.WebhookEvent) => Effect.Effect<HttpServerResponse.HttpServerResponse | void, E, R>
): HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest> =>
  event(options).pipe(
    Effect.matchEffect({
      onFailure: (error) =>
        Effect.as(
          error._tag === "InvalidSecretError"
            ? Effect.logError("Flex webhook refused: the receiver's secret is invalid", error.message)
            : Effect.logWarning("Flex webhook refused", error.message),
          toResponse(error)
        ),
      onSuccess: (event) =>
        Effect.map(handle(event), (response) =>
          HttpServerResponse.isServerResponse(response) ? response : HttpServerResponse.empty({ status: 204 })
        )
    })
  )
