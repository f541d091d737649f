import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, type Scope, Tracer } from "effect"
import * as UndiciClient from "../src/flex/UndiciClient.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A loopback server answering each request with `answer`; what it was sent, and when a request closed. */
const serve = (answer: (request: Http.IncomingMessage, response: Http.ServerResponse) => void) =>
  Effect.gen(function* () {
    const seen: Array<Seen> = []
    const closed = yield* Deferred.make<void>()
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        seen.push({
          method: request.method ?? "",
          url: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString()
        })
        answer(request, response)
      })
      response.on("close", () => {
        if (!response.writableFinished) Deferred.unsafeDone(closed, Exit.void)
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { url, seen, closed: Deferred.await(closed) }
  })

const client: Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> = Effect.map(
  Layer.build(UndiciClient.layer),
  (context) => context.unsafeMap.get(HttpClient.HttpClient.key) as HttpClient.HttpClient
)

const untraced = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.withTracerEnabled(self, false)

const failureOf = <A>(effect: Effect.Effect<A, HttpClientError.HttpClientError>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail"
      ? Effect.succeed(exit.cause.error)
      : Effect.dieMessage(`expected a typed failure, got ${Exit.isSuccess(exit) ? "success" : String(exit.cause)}`)
  )

describe("UndiciClient", () => {
  it.scopedLive("sends the method, path, query, headers and body; reads the status, headers and body", () =>
    Effect.gen(function* () {
      const server = yield* serve((_, response) => {
        response.writeHead(201, { "content-type": "application/json", "request-id": "req_1" })
        response.end(JSON.stringify({ ok: true }))
      })
      const http = yield* client
      const request = HttpClientRequest.post(`${server.url}/v1/things`, {
        headers: { authorization: "Bearer k", "idempotency-key": "key-1" },
        urlParams: { limit: "2" }
      }).pipe(HttpClientRequest.bodyUint8Array(new TextEncoder().encode("hello"), "text/plain"))
      const response = yield* untraced(http.execute(request))
      assert.strictEqual(response.status, 201)
      assert.strictEqual(response.headers["request-id"], "req_1")
      assert.strictEqual(yield* response.text, `{"ok":true}`)
      // Read again: the same body.
      assert.deepStrictEqual(yield* response.json, { ok: true })
      const [seen] = server.seen
      assert.strictEqual(seen?.method, "POST")
      assert.strictEqual(seen?.url, "/v1/things?limit=2")
      assert.strictEqual(seen?.headers.authorization, "Bearer k")
      assert.strictEqual(seen?.headers["idempotency-key"], "key-1")
      assert.strictEqual(seen?.body, "hello")
    })
  )

  it.scopedLive("a body in several chunks is read whole, a byte order mark dropped", () =>
    Effect.gen(function* () {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("\uFEFF[1,")
        setTimeout(() => response.end("2]"), 20)
      })
      const http = yield* client
      const response = yield* untraced(http.get(server.url))
      assert.strictEqual(yield* response.text, "[1,2]")
    })
  )

  it.scopedLive("a connection closed before the status line is a RequestError (Transport) with undici's error", () =>
    Effect.gen(function* () {
      const server = yield* serve((request) => {
        request.socket.destroy()
      })
      const http = yield* client
      const error = yield* failureOf(untraced(http.get(server.url)))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.instanceOf(error.cause, Error)
    })
  )

  it.scopedLive("a refused connection is a RequestError (Transport) whose cause has the system code", () =>
    Effect.gen(function* () {
      const http = yield* client
      // Port 1 (tcpmux): nothing listens there on a test machine.
      const error = yield* failureOf(untraced(http.get("http://127.0.0.1:1/")))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual((error.cause as { code?: string }).code, "ECONNREFUSED")
    })
  )

  it.scopedLive("a body cut short is a ResponseError (Decode)", () =>
    Effect.gen(function* () {
      const server = yield* serve((request, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-length": "100" })
        response.write(`{"cut":`)
        setTimeout(() => request.socket.destroy(), 20)
      })
      const http = yield* client
      const response = yield* untraced(http.get(server.url))
      const error = yield* failureOf(response.text)
      assert.strictEqual(error._tag, "ResponseError")
      assert.strictEqual(error.reason, "Decode")
    })
  )

  it.scopedLive("interrupting a request waiting for its answer closes it", () =>
    Effect.gen(function* () {
      const server = yield* serve(() => {})
      const http = yield* client
      const fiber = yield* Effect.fork(untraced(http.get(server.url)))
      while (server.seen.length === 0) yield* Effect.sleep(5)
      yield* Fiber.interrupt(fiber)
      yield* server.closed
    })
  )

  it.scopedLive("interrupting the read of a body closes the request", () =>
    Effect.gen(function* () {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("[")
      })
      const http = yield* client
      const response = yield* untraced(http.get(server.url))
      const fiber = yield* Effect.fork(response.text)
      yield* Effect.sleep(20)
      yield* Fiber.interrupt(fiber)
      yield* server.closed
    })
  )

  it.scopedLive("a request of HttpClient.withScope is closed with its scope, read or not", () =>
    Effect.gen(function* () {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("[")
      })
      const http = yield* client
      const status = yield* Effect.scoped(
        Effect.map(untraced(HttpClient.withScope(http).get(server.url)), (response) => response.status)
      )
      assert.strictEqual(status, 200)
      yield* Effect.timeoutFail(server.closed, { duration: "5 seconds", onTimeout: () => "still open" })
    })
  )

  it.scopedLive("with the tracer on, the platform's client answers, with its http.client span", () =>
    Effect.gen(function* () {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
      const http = yield* client
      const names: Array<string> = []
      const inner = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (...args) => {
          names.push(args[0])
          return inner.span(...args)
        },
        context: inner.context
      })
      const traced = yield* Effect.flatMap(http.get(server.url), (response) => response.text).pipe(
        Effect.withTracer(tracer)
      )
      assert.strictEqual(traced, "{}")
      assert.deepStrictEqual(names, ["http.client GET"])
      yield* Effect.flatMap(http.get(server.url), (response) => response.text).pipe(Effect.withTracer(tracer), untraced)
      assert.deepStrictEqual(names, ["http.client GET"])
    })
  )
})
