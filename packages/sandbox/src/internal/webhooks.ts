/**
 * Webhooks: the endpoints registered with the sandbox, the events its state changes emit, and their
 * deliveries, on plain `node:http` like the rest of the server.
 *
 * A delivery never runs inside the request that caused it: `emit` only queues it on a timer, so the
 * public API's answer is on the wire before the first attempt starts. Every timer and every request in
 * flight is tracked, so `close` (and `reset`) leave nothing behind; an attempt that ends after either is
 * dropped without a record, by the generation it was started in.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import * as Https from "node:https"
import * as ErrorBody from "@flex/domain/ErrorBody"
import type * as Webhook from "../Webhook.js"
import { emittedEventTypes, flexEventTypes, sandboxEventTypes } from "../Webhook.js"
import { prefixed } from "./ids.js"
import * as Prng from "./prng.js"
import { type Change, errorReply, type Reply, type Store } from "./store.js"

const { codes } = ErrorBody

export interface Retry {
  readonly attempts: number
  readonly retryDelayMs: number
  readonly timeoutMs: number
}

interface EndpointState {
  readonly id: string
  url: string
  events: ReadonlyArray<string>
  readonly secret: string
}

interface EventRecord {
  /** Its `object` holds the store's wire objects, which are replaced on a change, never mutated. */
  readonly event: Webhook.Event
  /** The exact bytes every attempt sends and signs, made when first needed (no subscriber, no cost). */
  body: string | undefined
}

const bodyOf = (record: EventRecord): string => {
  record.body ??= JSON.stringify(record.event)
  return record.body
}

interface Job {
  readonly record: EventRecord
  readonly webhookKey: string
  readonly attempt: number
  readonly redelivery: boolean
  readonly generation: number
}

/** The secret's prefix, as in Flex's docs example. */
export const secretPrefix = "fwhsec_"

const known = new Set<string>([...flexEventTypes, ...sandboxEventTypes, "*"])

/** The Svix signature of one attempt: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`. */
export const sign = (secret: string, id: string, timestamp: number, body: string): string => {
  const key = Buffer.from(secret.slice(secretPrefix.length), "base64")
  return `v1,${Crypto.createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`
}

const api = "/v1/webhooks"

/** True for the paths of the webhook endpoints API (`/v1/webhooks`, `/v1/webhooks/{id}`), query or not. */
export const isApiPath = (target: string): boolean =>
  target.startsWith(api) && (target.length === api.length || "/?".includes(target[api.length]!))

const maxBody = 1024 * 1024

/** Reads a JSON request body (none is `undefined`), or answers why it cannot. */
export const readJson = (
  req: Http.IncomingMessage,
  done: (result: { readonly body: unknown } | Reply) => void
): void => {
  const chunks: Array<Buffer> = []
  let size = 0
  req.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size <= maxBody) chunks.push(chunk)
  })
  req.on("end", () => {
    if (size > maxBody) return done(errorReply(413, codes.invalidRequest, "The request body is too large."))
    const text = Buffer.concat(chunks).toString("utf8")
    try {
      done({ body: text === "" ? undefined : JSON.parse(text) })
    } catch {
      done(errorReply(400, codes.invalidRequest, "The request body is not valid JSON."))
    }
  })
}

/**
 * A path segment, percent-decoded; a malformed escape (`%E0%A4%A`) is kept as it came, so it names no event
 * or intent and is a 404, rather than a `URIError` thrown out of the request handler (which took the whole
 * process down: the sandbox runs inside the caller's test runner).
 */
const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

// Echoed values are cut short so a hostile request cannot make a huge error message.
const echo = (value: string): string => (value.length > 64 ? `${value.slice(0, 61)}...` : value)

/** The `webhook` object of a body, or why not; `partial` for an update, where every field is optional. */
const parseInput = (
  body: unknown,
  partial: boolean
): { readonly url?: string; readonly events?: ReadonlyArray<string> } | string => {
  const input = isPlainObject(body) ? body.webhook : undefined
  if (!isPlainObject(input)) return 'Expected a body of the form {"webhook": {"url": "…", "events": ["…"]}}.'
  const out: { url?: string; events?: ReadonlyArray<string> } = {}
  if (input.url !== undefined || !partial) {
    let url: URL | null = null
    try {
      url = typeof input.url === "string" ? new URL(input.url) : null
    } catch {
      url = null
    }
    // The URL itself is never echoed: it may carry credentials.
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return "webhook.url must be an absolute http:// or https:// URL."
    }
    out.url = input.url as string
  }
  if (input.events !== undefined && input.events !== null) {
    if (!Array.isArray(input.events)) return "webhook.events must be an array of event types."
    for (let i = 0; i < input.events.length; i++) {
      const type: unknown = input.events[i]
      if (typeof type !== "string" || !known.has(type)) {
        return `webhook.events[${i}]: unknown event type '${echo(String(type))}'; expected a Flex event type (payment_intent.succeeded, …), a sandbox.* type or '*'.`
      }
    }
    out.events = input.events as Array<string>
  } else if (!partial) {
    out.events = ["*"]
  }
  return out
}

const subscribed = (endpoint: EndpointState, type: string): boolean =>
  endpoint.events.length === 0 || endpoint.events.includes("*") || endpoint.events.includes(type)

/** Why an attempt got no answer, without anything from the URL: a code such as `ECONNREFUSED`. */
const reasonOf = (error: NodeJS.ErrnoException): string =>
  typeof error.code === "string" && error.code !== "" ? error.code : "connection_error"

export class Webhooks {
  private readonly endpoints = new Map<string, EndpointState>()
  private events: Array<EventRecord> = []
  private readonly byEventId = new Map<string, EventRecord>()
  private log: Array<Webhook.Delivery> = []
  /** Pending attempts, with the endpoint each is for. */
  private readonly timers = new Map<NodeJS.Timeout, string>()
  private readonly inflight = new Set<Http.ClientRequest>()
  private generation = 0
  private closed = false
  private ids!: Prng.Prng
  private secrets!: Prng.Prng

  constructor(
    private readonly seed: number,
    private readonly retry: Retry
  ) {
    this.restart()
  }

  private restart(): void {
    this.ids = Prng.make(this.seed, "webhook-ids")
    this.secrets = Prng.make(this.seed, "webhook-secrets")
  }

  /** Drops every pending retry and every attempt in flight. */
  private cancelPending(): void {
    this.generation++
    for (const timer of this.timers.keys()) clearTimeout(timer)
    this.timers.clear()
    for (const req of this.inflight) req.destroy()
    this.inflight.clear()
  }

  /** Attempts waiting on a timer or in flight. */
  get pending(): number {
    return this.timers.size + this.inflight.size
  }

  close(): void {
    this.closed = true
    this.cancelPending()
  }

  /** No endpoints, events or deliveries, and the seed's IDs and secrets from the start again. */
  reset(): void {
    this.cancelPending()
    this.endpoints.clear()
    this.events = []
    this.byEventId.clear()
    this.log = []
    this.restart()
  }

  // ---------------------------------------------------------------------------------------------
  // Endpoints

  private static view(endpoint: EndpointState): Webhook.Endpoint {
    return { id: endpoint.id, url: endpoint.url, events: [...endpoint.events], signing_secret: endpoint.secret }
  }

  private static wire(endpoint: EndpointState) {
    return {
      webhook_id: endpoint.id,
      url: endpoint.url,
      signing_secret: endpoint.secret,
      test_mode: true,
      events: [...endpoint.events]
    }
  }

  private static envelope(endpoint: EndpointState, status = 200): Reply {
    return { status, body: JSON.stringify({ webhook: Webhooks.wire(endpoint) }) }
  }

  /** Registers an endpoint from a `{"webhook": {url, events}}` body, or says why not. */
  register(body: unknown): Webhook.Endpoint | string {
    const input = parseInput(body, false)
    if (typeof input === "string") return input
    const bytes = Buffer.alloc(24)
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.secrets.int(256)
    const endpoint: EndpointState = {
      id: prefixed("fwh_", Date.now(), this.ids),
      url: input.url!,
      events: input.events!,
      secret: `${secretPrefix}${bytes.toString("base64")}`
    }
    this.endpoints.set(endpoint.id.toUpperCase(), endpoint)
    return Webhooks.view(endpoint)
  }

  list(): ReadonlyArray<Webhook.Endpoint> {
    return [...this.endpoints.values()].map(Webhooks.view)
  }

  /** `POST /v1/webhooks` and `GET`/`POST`/`DELETE /v1/webhooks/{id}`; `rest` is the path after `/v1/webhooks`. */
  api(method: string, rest: string, body: unknown): Reply {
    if (rest === "" || rest === "/") {
      if (method !== "POST") return this.unknown(method, rest)
      const created = this.register(body)
      if (typeof created === "string") return errorReply(400, codes.invalidRequest, created)
      return Webhooks.envelope(this.endpoints.get(created.id.toUpperCase())!)
    }
    const id = rest.slice(1)
    if (id.includes("/") || !["GET", "POST", "DELETE"].includes(method)) return this.unknown(method, rest)
    const endpoint = this.endpoints.get(id.toUpperCase())
    if (endpoint === undefined) return errorReply(404, codes.resourceMissing, `No such webhook: '${echo(id)}'`)
    switch (method) {
      case "GET":
        return Webhooks.envelope(endpoint)
      case "DELETE":
        this.remove(id.toUpperCase())
        return Webhooks.envelope(endpoint)
      default: {
        const update = parseInput(body, true)
        if (typeof update === "string") return errorReply(400, codes.invalidRequest, update)
        if (update.url !== undefined) endpoint.url = update.url
        if (update.events !== undefined) endpoint.events = update.events
        return Webhooks.envelope(endpoint)
      }
    }
  }

  /** Removes an endpoint and its pending retries; an attempt in flight ends, is logged, and is not retried. */
  private remove(key: string): void {
    this.endpoints.delete(key)
    for (const [timer, webhookKey] of this.timers) {
      if (webhookKey !== key) continue
      clearTimeout(timer)
      this.timers.delete(timer)
    }
  }

  private unknown(method: string, rest: string): Reply {
    return errorReply(404, codes.invalidRequest, `Unrecognized request URL (${method}: /v1/webhooks${echo(rest)}).`)
  }

  /**
   * The admin routes of webhooks and of the admin transitions that emit events; `undefined` for any
   * other path.
   */
  admin(method: string, pathname: string, body: unknown, store: Store): Reply | undefined {
    const ok = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) })
    switch (`${method} ${pathname}`) {
      case "POST /_sandbox/webhooks": {
        const created = this.register(body)
        if (typeof created === "string") return errorReply(400, codes.invalidRequest, created)
        return Webhooks.envelope(this.endpoints.get(created.id.toUpperCase())!, 201)
      }
      case "GET /_sandbox/webhooks":
        return ok(200, { webhooks: [...this.endpoints.values()].map(Webhooks.wire) })
      case "GET /_sandbox/events":
        return ok(200, { events: this.eventLog() })
      case "GET /_sandbox/deliveries":
        return ok(200, { deliveries: this.log })
    }
    if (method !== "POST") return undefined
    const redeliver = /^\/_sandbox\/events\/([^/]+)\/redeliver$/.exec(pathname)
    if (redeliver !== null) {
      const id = decodeSegment(redeliver[1]!)
      const sent = this.redeliver(id)
      if (sent === undefined) return errorReply(404, codes.resourceMissing, `No such event: '${echo(id)}'`)
      return ok(202, { event_id: id, webhooks: sent })
    }
    const succeed = /^\/_sandbox\/payment_intents\/([^/]+)\/succeed$/.exec(pathname)
    if (succeed !== null) return store.succeed(decodeSegment(succeed[1]!))
    return undefined
  }

  // ---------------------------------------------------------------------------------------------
  // Events and deliveries

  eventLog(): ReadonlyArray<Webhook.Event> {
    // Parsed from the bytes sent, so what a caller reads (or changes) is a copy of what was delivered.
    return this.events.map((record) => JSON.parse(bodyOf(record)) as Webhook.Event)
  }

  deliveries(): ReadonlyArray<Webhook.Delivery> {
    return [...this.log]
  }

  /** The events of a change of the store (see the module doc of `Webhook` for which). */
  announce(change: Change): void {
    const object = { payment_intent: change.intent }
    switch (change._tag) {
      case "Created":
        this.emit(emittedEventTypes.created, object)
        return
      case "Canceled":
        this.emit(emittedEventTypes.canceled, object)
        return
      case "Succeeded": {
        this.emit(emittedEventTypes.succeeded, object)
        const invoice = change.intent.invoice
        if (isPlainObject(invoice)) this.emit(emittedEventTypes.invoicePaid, { invoice })
      }
    }
  }

  /**
   * Records an event and queues its delivery to every endpoint subscribed to its type. With no endpoint
   * registered there is nobody to send it to, and nothing is recorded: a benchmark that creates and
   * cancels 200,000 intents would otherwise keep every old version of them alive.
   */
  emit(type: string, object: Record<string, unknown>): void {
    if (this.closed || this.endpoints.size === 0) return
    const now = Date.now()
    const event: Webhook.Event = {
      event_dt: Math.floor(now / 1000),
      event_id: prefixed("evt_", now, this.ids),
      event_type: type,
      object
    }
    const record: EventRecord = { event, body: undefined }
    this.events.push(record)
    this.byEventId.set(event.event_id, record)
    this.dispatch(record, false)
  }

  /** Sends an event again, with the same ID and body, to every endpoint now subscribed to it. */
  redeliver(eventId: string): ReadonlyArray<string> | undefined {
    const record = this.byEventId.get(eventId)
    return record === undefined ? undefined : this.dispatch(record, true)
  }

  private dispatch(record: EventRecord, redelivery: boolean): ReadonlyArray<string> {
    const sent: Array<string> = []
    for (const [webhookKey, endpoint] of this.endpoints) {
      if (!subscribed(endpoint, record.event.event_type)) continue
      sent.push(endpoint.id)
      this.schedule({ record, webhookKey, attempt: 1, redelivery, generation: this.generation }, 0)
    }
    return sent
  }

  private schedule(job: Job, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.attempt(job)
    }, delayMs)
    this.timers.set(timer, job.webhookKey)
  }

  private attempt(job: Job): void {
    const endpoint = this.endpoints.get(job.webhookKey)
    // Deleted since, or the sandbox stopped or was reset: nothing more to send.
    if (endpoint === undefined || this.closed || job.generation !== this.generation) return
    const { event } = job.record
    const body = bodyOf(job.record)
    const timestamp = Math.floor(Date.now() / 1000)
    const url = endpoint.url
    const target = new URL(url)
    let settled = false
    const finish = (status: number | null, error: string | null) => {
      if (settled) return
      settled = true
      this.inflight.delete(req)
      if (this.closed || job.generation !== this.generation) return
      const delivered = status !== null && status >= 200 && status < 300
      // Deleted meanwhile: this attempt is the last.
      const last = job.attempt >= this.retry.attempts || !this.endpoints.has(job.webhookKey)
      this.log.push({
        event_id: event.event_id,
        event_type: event.event_type,
        webhook_id: endpoint.id,
        url,
        attempt: job.attempt,
        redelivery: job.redelivery,
        status,
        error,
        outcome: delivered ? "delivered" : last ? "failed" : "retrying",
        at: new Date().toISOString()
      })
      if (!delivered && !last) {
        this.schedule({ ...job, attempt: job.attempt + 1 }, this.retry.retryDelayMs * 2 ** (job.attempt - 1))
      }
    }
    // A fresh connection per attempt (no agent), closed once the answer is in, so none outlives `close`.
    const req = (target.protocol === "https:" ? Https : Http).request(
      target,
      {
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "flex-sandbox",
          "svix-id": event.event_id,
          "svix-timestamp": String(timestamp),
          "svix-signature": sign(endpoint.secret, event.event_id, timestamp, body)
        }
      },
      (res) => {
        res.resume()
        finish(res.statusCode ?? null, null)
      }
    )
    this.inflight.add(req)
    req.setTimeout(this.retry.timeoutMs, () => {
      finish(null, "timeout")
      req.destroy()
    })
    req.on("error", (error: NodeJS.ErrnoException) => finish(null, reasonOf(error)))
    req.on("close", () => this.inflight.delete(req))
    req.end(body)
  }
}
