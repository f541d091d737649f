import * as Http from "node:http"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** One request a receiver got: its headers and raw body, and when its connection went away. */
export interface Received {
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** Completes when the request's socket closes. */
  readonly socketClosed: Deferred.Deferred<void>
}

/** What the receiver answers: a status, or `"hang"` (read the request, never answer). */
export type Answer = number | "hang"

export interface Receiver {
  readonly url: string
  /** The next request, in arrival order; waits for it. */
  readonly take: Effect.Effect<Received>
  /** How many requests arrived so far. */
  readonly count: Effect.Effect<number>
}

/**
 * A plain `node:http` webhook receiver on 127.0.0.1 and a free port, for as long as the scope is open.
 * It answers the n-th request with `answers[n]`, then `otherwise`.
 */
export const receiver = (
  answers: ReadonlyArray<Answer> = [],
  otherwise: Answer = 200
): Effect.Effect<Receiver, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<Received>()
    let seen = 0
    const server = Http.createServer((req, res) => {
      const answer = answers[seen] ?? otherwise
      seen++
      const chunks: Array<Buffer> = []
      const socketClosed = Deferred.unsafeMake<void>(FiberId.none)
      req.socket.once("close", () => Deferred.unsafeDone(socketClosed, Effect.void))
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        Queue.unsafeOffer(queue, { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), socketClosed })
        if (answer !== "hang") res.writeHead(answer, { "content-type": "text/plain" }).end("ok")
      })
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    return { url: `http://127.0.0.1:${port}/webhooks`, take: Queue.take(queue), count: Effect.sync(() => seen) }
  })

/** A URL on which nothing listens: a port that was free a moment ago, closed again. */
export const downUrl: Effect.Effect<string> = Effect.async<string>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}/webhooks`)))
  })
})
