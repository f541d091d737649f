/**
 * The worker's `HttpClient`: undici's `dispatch` with a response that buffers its body, for the fibers
 * that trace nothing; the platform's undici client (`NodeHttpClient.makeUndici`, same dispatcher) for
 * any fiber with the tracer on, so its `http.client` spans are as they always were.
 *
 * Measured in-process against the sandbox (issue 14), `NodeHttpClient.layerUndici`'s client costs about
 * 120 Effect operations and 250 µs of CPU per request beyond undici's own `request` + `text()`: a URL
 * parse, an `AbortController`, a `FinalizationRegistry` entry and a wrapper per response, a stream
 * per body and an `Effect.cached` run by `Effect.runSync` (a fiber) to read it. A Flex call reads every
 * body whole and small, so here the request is one `Effect.async` over a `dispatch` handler (its
 * `abort` for interruption), the body is collected as it arrives (never paused: a response that is not
 * read still frees its connection) and `text` is one more `Effect.async`, or none once the body is in.
 * Errors are the platform's: a `RequestError` ("Transport", with undici's error as the cause) before the
 * status line, a `ResponseError` ("Decode") while reading the body.
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Undici from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/**
 * The requests of `HttpClient.withScope`, whose lifetime is a scope's rather than the response's: the
 * platform's own table (a global value under this key, made when `HttpClient` is loaded). Such a
 * request goes to the platform's client, which ties it to its scope.
 */
const scopedRequests = globalValue(
  "@effect/platform/HttpClient/scopedRequests",
  () => new WeakMap<HttpClientRequest.HttpClientRequest, AbortController>()
)

/** The platform's key for per-request undici options in the context (`NodeHttpClient`'s, kept as is). */
const undiciOptionsTagKey = "@effect/platform-node/NodeHttpClient/undiciOptions"

class Aborted extends Error {
  override readonly name = "AbortError"
  constructor() {
    super("The request was interrupted")
  }
}

/**
 * One request and its response: undici's handler of the exchange and, once the status line is in, the
 * `HttpClientResponse` (one object for both, so a call allocates one).
 */
class Exchange
  extends Inspectable.Class
  implements Undici.Dispatcher.DispatchHandler, HttpClientResponse.HttpClientResponse
{
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId

  private controller: Undici.Dispatcher.DispatchController | undefined = undefined
  private interrupted = false
  private onHead:
    | ((effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void)
    | undefined
  status = 0
  private rawHeaders: Record<string, string | Array<string> | undefined> = {}
  private chunks: Array<Buffer> = []
  private ended = false
  private failure: unknown = undefined
  private waiters: Array<() => void> | undefined = undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    onHead: (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void
  ) {
    super()
    this.onHead = onHead
  }

  // The handler: undici calls these.

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.interrupted) controller.abort(new Aborted())
  }

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    // 1xx: informational, the response proper follows.
    if (statusCode < 200) return
    this.status = statusCode
    this.rawHeaders = headers
    const resume = this.onHead
    this.onHead = undefined
    resume?.(Effect.succeed(this))
  }

  onResponseData(_controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk)
  }

  onResponseEnd(): void {
    this.ended = true
    this.wake()
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController, error: Error): void {
    const resume = this.onHead
    if (resume !== undefined) {
      this.onHead = undefined
      resume(
        Effect.fail(new HttpClientError.RequestError({ request: this.request, reason: "Transport", cause: error }))
      )
      return
    }
    this.failure = error
    this.ended = true
    this.wake()
  }

  /** Interruption, before or after the status line. */
  abort(): void {
    this.onHead = undefined
    if (this.controller !== undefined) this.controller.abort(new Aborted())
    else this.interrupted = true
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = undefined
    if (waiters !== undefined) for (const wake of waiters) wake()
  }

  // The response.

  private cachedHeaders: Headers.Headers | undefined = undefined
  get headers(): Headers.Headers {
    if (this.cachedHeaders === undefined) {
      this.cachedHeaders = Headers.fromInput(this.rawHeaders as Record<string, string | ReadonlyArray<string>>)
    }
    return this.cachedHeaders
  }

  get cookies(): Cookies.Cookies {
    const header = this.rawHeaders["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  private body?: Buffer
  /** The whole body, once it has arrived. */
  private readonly bytes: Effect.Effect<Buffer, HttpClientError.ResponseError> = Effect.suspend(() => {
    if (this.ended) return this.settled()
    return Effect.async<Buffer, HttpClientError.ResponseError>((resume) => {
      const wake = () => resume(this.settled())
      if (this.waiters === undefined) this.waiters = [wake]
      else this.waiters.push(wake)
      return Effect.sync(() => this.abort())
    })
  })

  private settled(): Effect.Effect<Buffer, HttpClientError.ResponseError> {
    if (this.failure !== undefined) return Effect.fail(this.decodeError(this.failure))
    if (this.body === undefined) {
      this.body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
      this.chunks = []
    }
    return Effect.succeed(this.body)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    // As undici's `body.text()`: UTF-8, a byte order mark dropped.
    return Effect.map(this.bytes, (body) => {
      const text = body.toString("utf8")
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
    })
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({ try: () => (text === "" ? null : JSON.parse(text)), catch: (cause) => this.decodeError(cause) })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (body) => new Uint8Array(body).buffer as ArrayBuffer)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.bytes, (body) =>
      Effect.tryPromise({
        try: () => new Response(body, { headers: this.headers }).formData(),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromEffect(this.bytes)
  }

  toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  body: Uint8Array | null,
  options: Partial<Undici.Dispatcher.DispatchOptions>
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.async((resume) => {
    const exchange = new Exchange(request, resume)
    dispatcher.dispatch(
      {
        ...options,
        method: request.method,
        headers: request.headers,
        origin: url.origin,
        path: url.pathname + url.search + url.hash,
        body,
        // As the platform's client: timeouts are Effect's (the Flex client's per attempt).
        headersTimeout: 60 * 60 * 1000,
        bodyTimeout: 0
      },
      exchange
    )
    return Effect.sync(() => exchange.abort())
  })

/**
 * The client over a dispatcher; `traced` (by default the platform's undici client on the same
 * dispatcher) runs the requests of fibers with the tracer on, every request whose body is a stream or
 * form data, and those of `HttpClient.withScope`.
 */
export const make = (
  dispatcher: Undici.Dispatcher,
  traced: HttpClient.HttpClient = NodeHttpClient.makeUndici(dispatcher)
): HttpClient.HttpClient =>
  HttpClient.makeWith<HttpClientError.HttpClientError, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.withFiberRuntime((fiber) => {
          const body = request.body
          if (
            fiber.getFiberRef(FiberRef.currentTracerEnabled) ||
            (body._tag !== "Empty" && body._tag !== "Uint8Array" && body._tag !== "Raw") ||
            scopedRequests.has(request)
          ) {
            return traced.execute(request)
          }
          const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
          if (url._tag === "Left") {
            return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
          }
          const options = fiber.getFiberRef(FiberRef.currentContext).unsafeMap.get(undiciOptionsTagKey) ?? {}
          return send(dispatcher, request, url.right, body._tag === "Empty" ? null : (body.body as Uint8Array), options)
        })
      ),
    Effect.succeed
  )

/**
 * The client on a dispatcher of its own, destroyed with the layer (as `NodeHttpClient.layerUndici`'s).
 * Not `HttpClient.layerMergedContext`: nothing here reads the layer's context, and merging it into every
 * request's would be a change of context (about 14 Effect operations) per request.
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(NodeHttpClient.Dispatcher, (dispatcher) => make(dispatcher))
).pipe(Layer.provide(NodeHttpClient.dispatcherLayer))
