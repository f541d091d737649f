/**
 * A small HTTP server on 127.0.0.1 for the client's tests: each request is answered by the next
 * scripted behaviour (or the fallback), and every request is recorded.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"

export type Behaviour =
  | {
      readonly _tag: "Respond"
      readonly status: number
      readonly body: string
      readonly headers?: Record<string, string>
    }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Hang" }

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Behaviour => ({
  _tag: "Respond",
  status,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})
export const raw = (status: number, body: string, headers: Record<string, string> = {}): Behaviour => ({
  _tag: "Respond",
  status,
  body,
  headers
})
export const reset: Behaviour = { _tag: "Reset" }
export const hang: Behaviour = { _tag: "Hang" }

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
}

export interface TestServer {
  readonly url: string
  readonly requests: Array<Recorded>
  /** Answers the next requests with these behaviours, in order. */
  readonly script: (...behaviours: ReadonlyArray<Behaviour>) => void
  /** Answers a request when the script is empty. */
  fallback: (request: Recorded) => Behaviour
  /** Hanging requests whose connection the client closed. */
  readonly aborted: () => number
}

export const start: Effect.Effect<TestServer, never, import("effect/Scope").Scope> = Effect.acquireRelease(
  Effect.async<TestServer>((resume) => {
    const queue: Array<Behaviour> = []
    const requests: Array<Recorded> = []
    let aborted = 0
    const server = Http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers }
        requests.push(recorded)
        const behaviour = queue.shift() ?? self.fallback(recorded)
        switch (behaviour._tag) {
          case "Respond":
            res.writeHead(behaviour.status, behaviour.headers ?? {})
            res.end(behaviour.body)
            return
          case "Reset":
            req.socket.resetAndDestroy()
            return
          case "Hang":
            res.on("close", () => {
              aborted++
            })
            return
        }
      })
    })
    const self: TestServer & { server: Http.Server } = {
      server,
      url: "",
      requests,
      script: (...behaviours) => {
        queue.push(...behaviours)
      },
      fallback: () => json(500, { error: { code: "unscripted", message: "no behaviour scripted" } }),
      aborted: () => aborted
    }
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      ;(self as { url: string }).url = `http://127.0.0.1:${port}`
      resume(Effect.succeed(self))
    })
  }),
  (self) =>
    Effect.async<void>((resume) => {
      const server = (self as unknown as { server: Http.Server }).server
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)
