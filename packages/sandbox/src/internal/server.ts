/**
 * The HTTP side of the sandbox, on plain `node:http`: fast enough that it is never the bottleneck of a
 * benchmark, and with the raw socket at hand for resets and hangs.
 *
 * A public request goes through the layers a real API has, in this order: the network (latency, then
 * a reset, a hang or a proxy's HTML 502), authentication, the rate limiter, a server error, the
 * idempotency layer, the endpoint, and finally what can go wrong with the reply once the work is done
 * (a malformed body, a dropped connection). As at Stripe, 401s and 429s are never stored for
 * idempotency because they are decided before that layer; a reply that was computed is stored even
 * when the connection then drops, so a retry with the same key replays it.
 *
 * @internal
 */
import * as Http from "node:http"
import * as ErrorBody from "@flex/domain/ErrorBody"
import type * as Call from "../Call.js"
import * as FaultProfile from "../FaultProfile.js"
import { type Decision, Injector } from "./faults.js"
import { token } from "./ids.js"
import * as Prng from "./prng.js"
import { errorBody, errorReply, type Reply, Store } from "./store.js"
import * as Webhooks from "./webhooks.js"

export interface Config {
  readonly seed: number
  readonly intents: number
  readonly profile: FaultProfile.FaultProfile
  /** When set, the only key accepted; otherwise any `fsk_test_…` key. */
  readonly apiKey: string | undefined
  readonly webhooks: Webhooks.Retry
}

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

interface StoredReply extends Reply {
  readonly method: string
  readonly path: string
}

const json = "application/json"

const { codes } = ErrorBody

/** One public request, as the layers see it. */
interface Request {
  readonly call: Mutable<Call.Call>
  readonly pathname: string
  readonly query: string
  readonly authorization: string | undefined
}

/** What a public request gets: an answer, a reset connection, or nothing at all. */
type Outcome =
  | {
      readonly _tag: "Answer"
      readonly status: number
      readonly body: string
      readonly contentType: string
      readonly headers: Record<string, string> | undefined
      readonly fault: FaultProfile.Fault | null
    }
  | { readonly _tag: "Reset"; readonly fault: "reset" | "commit_then_drop" }
  | { readonly _tag: "Hang"; readonly fault: "hang" }

const answer = (
  status: number,
  body: string,
  fault: FaultProfile.Fault | null = null,
  headers?: Record<string, string>,
  contentType = json
): Outcome => ({ _tag: "Answer", status, body, contentType, headers, fault })

type Route =
  | { readonly endpoint: "list" }
  | { readonly endpoint: "retrieve"; readonly id: string }
  | { readonly endpoint: "cancel"; readonly id: string }

/** Stripe prunes keys after 24 hours; the sandbox keeps the newest this many. */
const idempotencyCapacity = 100_000
const maxIdempotencyKey = 255
const maxAdminBody = 64 * 1024 * 1024

const proxyPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

const serverErrors = {
  500: ["api_error", "An unexpected error occurred on our side. Please try again later."],
  502: ["bad_gateway", "The upstream service did not answer in time. Please try again."],
  503: ["service_unavailable", "The service is temporarily unavailable. Please try again."]
} as const

const v1 = "/v1/payment_intents"

const route = (method: string, pathname: string): Route | undefined => {
  if (!pathname.startsWith(v1)) return undefined
  if (pathname.length === v1.length) return method === "GET" ? { endpoint: "list" } : undefined
  if (pathname[v1.length] !== "/") return undefined
  const rest = pathname.slice(v1.length + 1)
  const slash = rest.indexOf("/")
  if (slash === -1) return method === "GET" && rest !== "" ? { endpoint: "retrieve", id: rest } : undefined
  return method === "POST" && rest.slice(slash) === "/cancel" && slash > 0
    ? { endpoint: "cancel", id: rest.slice(0, slash) }
    : undefined
}

export class Engine {
  readonly server: Http.Server
  readonly store: Store
  readonly webhooks: Webhooks.Webhooks
  private readonly injector: Injector
  private requestIds: Prng.Prng
  private calls: Array<Mutable<Call.Call>> = []
  private readonly idempotency = new Map<string, StoredReply>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private closing = false
  // While held, arriving public requests wait here (their fault already drawn) until `release`.
  private holding = false
  private waiting: Array<() => void> = []

  constructor(private readonly config: Config) {
    this.store = new Store(config.seed, config.intents)
    this.webhooks = new Webhooks.Webhooks(config.seed, config.webhooks)
    this.store.onChange = (change) => this.webhooks.announce(change)
    this.injector = new Injector(config.seed, config.profile)
    this.requestIds = Prng.make(config.seed, "request-ids")
    this.server = Http.createServer({ keepAlive: true, noDelay: true }, (req, res) => this.handle(req, res))
    // Clients on keep-alive agents reuse sockets for a few seconds; outlive them so a reused socket is
    // never closed under a request in flight.
    this.server.keepAliveTimeout = 30_000
  }

  /** Starts listening; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      this.server.once("error", onError)
      this.server.listen({ host, port }, () => {
        this.server.off("error", onError)
        const address = this.server.address()
        resolve(typeof address === "object" && address !== null ? address.port : port)
      })
    })
  }

  /** Stops: pending latency timers are dropped and every connection is closed, hanging ones included. */
  close(): Promise<void> {
    this.closing = true
    this.webhooks.close()
    this.waiting = []
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  // ---------------------------------------------------------------------------------------------
  // State for the admin API and the Effect handle

  callLog(): ReadonlyArray<Call.Call> {
    return this.calls.map((call) => ({ ...call }))
  }

  get faults(): FaultProfile.FaultProfile {
    return this.injector.profile
  }

  setFaults(profile: FaultProfile.FaultProfile): void {
    this.injector.set(profile)
  }

  /** From now on, public requests are received and logged but not answered until {@link release}. */
  hold(): void {
    this.holding = true
  }

  /** Answers every held request, in arrival order (each after its latency), and stops holding. */
  release(): void {
    this.holding = false
    const waiting = this.waiting
    this.waiting = []
    for (const proceed of waiting) proceed()
  }

  /** How many requests are held now. */
  get held(): number {
    return this.waiting.length
  }

  /** Everything back to how it started: intents, faults, the fault sequence, calls, idempotency keys. */
  reset(): void {
    // Held requests are answered first, by the state they arrived in.
    this.release()
    this.store.reset()
    this.injector.reset(this.config.profile)
    this.requestIds = Prng.make(this.config.seed, "request-ids")
    this.calls = []
    this.idempotency.clear()
    this.webhooks.reset()
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  private authorize(header: string | undefined): string | undefined {
    if (header === undefined || header === "") {
      return "You did not provide an API key. Send it as 'Authorization: Bearer fsk_test_...'."
    }
    const key = header.startsWith("Bearer ") ? header.slice(7).trim() : ""
    const pinned = this.config.apiKey
    const ok = pinned === undefined ? key.startsWith("fsk_test_") && key.length > 9 : key === pinned
    // Never echo the key: it would end up in the client's logs.
    return ok ? undefined : "Invalid API key provided."
  }

  private send(
    res: Http.ServerResponse,
    call: Mutable<Call.Call> | undefined,
    status: number,
    body: string,
    contentType: string,
    extra?: Record<string, string>
  ): void {
    if (call !== undefined) call.status = status
    const headers: Record<string, string | number> = {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      "request-id": `req_${token(14, this.requestIds)}`
    }
    if (extra !== undefined) Object.assign(headers, extra)
    res.writeHead(status, headers)
    res.end(body)
  }

  private handle(req: Http.IncomingMessage, res: Http.ServerResponse): void {
    const target = req.url ?? "/"
    if (target.startsWith("/_sandbox/") || target === "/_sandbox") {
      this.admin(req, res, target)
      return
    }
    if (Webhooks.isApiPath(target)) {
      this.webhookApi(req, res, target)
      return
    }
    const call = this.logCall(req, target)
    const q = target.indexOf("?")
    const request: Request = {
      call,
      pathname: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? "" : target.slice(q + 1),
      authorization: req.headers.authorization
    }
    const found = route(call.method, request.pathname)
    // Drawn on arrival, so the sequence follows the order requests came in, whatever the latency.
    const decision = this.injector.decide(found?.endpoint)
    const act = () => {
      // The client gave up during the latency, or the sandbox is stopping: nobody to answer.
      if (req.socket.destroyed || this.closing) return
      const outcome = this.outcome(request, found, decision)
      call.fault = outcome.fault
      if (outcome._tag === "Hang") return
      if (outcome._tag === "Reset") {
        req.socket.resetAndDestroy()
        return
      }
      this.send(res, call, outcome.status, outcome.body, outcome.contentType, outcome.headers)
    }
    const proceed = () => {
      if (decision.latencyMs === 0) {
        act()
        return
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        act()
      }, decision.latencyMs)
      this.timers.add(timer)
    }
    if (this.holding) this.waiting.push(proceed)
    else proceed()
  }

  /** What a public request gets, layer by layer; the only side effects are the endpoint's own. */
  private outcome(request: Request, found: Route | undefined, decision: Decision): Outcome {
    const { call } = request
    // The network, before the request reaches the API.
    switch (decision.fault) {
      case "reset":
        return { _tag: "Reset", fault: "reset" }
      case "hang":
        // Never answered; the socket goes when the client aborts or the sandbox closes.
        return { _tag: "Hang", fault: "hang" }
      case "html_502":
        return answer(502, proxyPage, "html_502", undefined, "text/html; charset=utf-8")
    }
    const denied = this.authorize(request.authorization)
    if (denied !== undefined) return answer(401, errorBody(codes.authentication, denied))
    const retryAfter = this.injector.take()
    if (retryAfter > 0) {
      const body = errorBody(codes.rateLimit, `Too many requests. Retry after ${retryAfter} s.`)
      return answer(429, body, "rate_limit", { "retry-after": String(retryAfter) })
    }
    if (decision.fault === "server_error") {
      const [code, message] = serverErrors[decision.errorStatus]
      return answer(decision.errorStatus, errorBody(code, message), "server_error")
    }

    // The idempotency layer, then the endpoint. Keys only matter on POST: Stripe ignores them on GET.
    const key = call.idempotency_key
    let reply: Reply
    let headers: Record<string, string> | undefined
    if (call.method === "POST" && key !== null) {
      if (key === "" || key.length > maxIdempotencyKey) {
        return answer(400, errorBody(codes.invalidRequest, "Idempotency-Key must be 1 to 255 characters long."))
      }
      const stored = this.idempotency.get(key)
      if (stored !== undefined && (stored.method !== call.method || stored.path !== request.pathname)) {
        const message = `Keys for idempotent requests can only be used for the same request; this key was first used for ${stored.method} ${stored.path}.`
        return answer(400, errorBody(codes.idempotencyError, message))
      }
      if (stored === undefined) {
        reply = this.execute(found, request)
        this.remember(key, { method: call.method, path: request.pathname, status: reply.status, body: reply.body })
        headers = { "idempotency-key": key }
      } else {
        reply = stored
        headers = { "idempotency-key": key, "idempotent-replayed": "true" }
      }
    } else {
      reply = this.execute(found, request)
    }

    // What can still go wrong once the work is done.
    if (decision.fault === "malformed_json") {
      const cut = reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2)))
      return answer(reply.status, cut, "malformed_json", headers)
    }
    if (decision.fault === "commit_then_drop") return { _tag: "Reset", fault: "commit_then_drop" }
    return answer(reply.status, reply.body, null, headers)
  }

  private remember(key: string, reply: StoredReply): void {
    this.idempotency.set(key, reply)
    if (this.idempotency.size > idempotencyCapacity) {
      this.idempotency.delete(this.idempotency.keys().next().value!)
    }
  }

  private execute(found: Route | undefined, request: Request): Reply {
    if (found === undefined) {
      const where = `${request.call.method}: ${request.pathname.slice(0, 80)}`
      return errorReply(404, codes.invalidRequest, `Unrecognized request URL (${where}).`)
    }
    switch (found.endpoint) {
      case "list":
        return this.store.list(new URLSearchParams(request.query))
      case "retrieve":
        return this.store.retrieve(found.id)
      case "cancel":
        return this.store.cancel(found.id)
    }
  }

  /** A public request, in the call log on arrival (its status once answered). */
  private logCall(req: Http.IncomingMessage, target: string): Mutable<Call.Call> {
    const keyHeader = req.headers["idempotency-key"]
    const call: Mutable<Call.Call> = {
      at: new Date().toISOString(),
      method: req.method ?? "GET",
      path: target,
      status: null,
      idempotency_key: typeof keyHeader === "string" ? keyHeader : null,
      fault: null
    }
    this.calls.push(call)
    return call
  }

  /** The webhook endpoints API: authenticated and logged like the rest of `/v1`, never faulted or held. */
  private webhookApi(req: Http.IncomingMessage, res: Http.ServerResponse, target: string): void {
    const call = this.logCall(req, target)
    const respond = (reply: Reply) => this.send(res, call, reply.status, reply.body, json)
    const denied = this.authorize(req.headers.authorization)
    if (denied !== undefined) {
      req.resume()
      respond(errorReply(401, codes.authentication, denied))
      return
    }
    const rest = target.split("?")[0]!.slice("/v1/webhooks".length)
    Webhooks.readJson(req, (read) => respond("status" in read ? read : this.webhooks.api(call.method, rest, read.body)))
  }

  // ---------------------------------------------------------------------------------------------
  // Admin API: no faults, no rate limit, no call log; the same key.

  private admin(req: Http.IncomingMessage, res: Http.ServerResponse, target: string): void {
    const respond = (reply: Reply) => this.send(res, undefined, reply.status, reply.body, json)
    const denied = this.authorize(req.headers.authorization)
    if (denied !== undefined) {
      req.resume()
      respond(errorReply(401, codes.authentication, denied))
      return
    }
    const method = req.method ?? "GET"
    const pathname = target.split("?")[0]!
    if (method !== "POST" && method !== "PUT") {
      req.resume()
      respond(this.adminReply(method, pathname, undefined))
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxAdminBody) chunks.push(chunk)
    })
    req.on("end", () => {
      if (size > maxAdminBody) return respond(errorReply(413, codes.invalidRequest, "The request body is too large."))
      const text = Buffer.concat(chunks).toString("utf8")
      let body: unknown
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {
        return respond(errorReply(400, codes.invalidRequest, "The request body is not valid JSON."))
      }
      respond(this.adminReply(method, pathname, body))
    })
  }

  private adminReply(method: string, pathname: string, body: unknown): Reply {
    const ok = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) })
    const webhooks = this.webhooks.admin(method, pathname, body, this.store)
    if (webhooks !== undefined) return webhooks
    switch (`${method} ${pathname}`) {
      case "POST /_sandbox/payment_intents": {
        const specs = (body as { payment_intents?: unknown } | null | undefined)?.payment_intents
        if (!Array.isArray(specs)) {
          return errorReply(400, codes.invalidRequest, 'Expected a body of the form {"payment_intents": [{…}, …]}.')
        }
        const created = this.store.create(specs)
        if (created._tag === "Left") return errorReply(400, codes.invalidRequest, created.left)
        return ok(201, { payment_intents: created.right })
      }
      case "GET /_sandbox/payment_intents":
        return ok(200, { payment_intents: this.store.snapshot() })
      case "GET /_sandbox/calls":
        return ok(200, { calls: this.calls })
      case "GET /_sandbox/releases": {
        const releases = this.store.releases()
        return ok(200, { releases, total: releases.reduce((sum, release) => sum + release.amount, 0) })
      }
      case "GET /_sandbox/faults":
        return ok(200, this.injector.profile)
      case "PUT /_sandbox/faults": {
        const decoded = FaultProfile.decode(body)
        if (decoded._tag === "Left")
          return errorReply(400, codes.invalidRequest, `Invalid fault profile: ${decoded.left}`)
        this.injector.set(decoded.right)
        return ok(200, decoded.right)
      }
      case "POST /_sandbox/hold":
        this.hold()
        return ok(200, { holding: true, held: this.held })
      case "POST /_sandbox/release": {
        const released = this.held
        this.release()
        return ok(200, { holding: false, released })
      }
      case "POST /_sandbox/reset":
        this.reset()
        return ok(200, { reset: true })
      default:
        return errorReply(404, codes.invalidRequest, `Unrecognized sandbox URL (${method}: ${pathname.slice(0, 80)}).`)
    }
  }
}
