/**
 * The sandbox's state: payment intents in creation order, the amounts their cancels released, and the
 * three operations of the public API as pure request → reply functions. Status changes go through
 * `@flex/domain`'s state machine only.
 *
 * Intents are kept in their wire form with a cache of their serialized JSON, so a read costs one map
 * lookup and a string concatenation.
 *
 * @internal
 */
import type { CustomerEncoded } from "@flex/domain/Customer"
import * as DecodeFailure from "@flex/domain/DecodeFailure"
import * as ErrorBody from "@flex/domain/ErrorBody"
import * as PaymentIntent from "@flex/domain/PaymentIntent"
import * as PaymentIntentStatus from "@flex/domain/PaymentIntentStatus"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import { Generator, type IntentWire } from "./generate.js"
import { paymentIntentIdPattern } from "./ids.js"
import * as Prng from "./prng.js"

/** A response before it goes on the wire. */
export interface Reply {
  readonly status: number
  readonly body: string
}

/** A change webhooks announce: the intent as it is after it. */
export interface Change {
  readonly _tag: "Created" | "Succeeded" | "Canceled"
  readonly intent: IntentWire
}

/** An amount released by a cancel. */
export interface Release {
  readonly payment_intent_id: string
  readonly amount: number
  readonly at: string
}

interface Entry {
  wire: IntentWire
  json: string | undefined
  readonly key: string
  readonly createdMs: number
}

const { codes } = ErrorBody

/** Flex's error body. */
export const errorBody = (code: string, message: string): string => JSON.stringify({ error: { code, message } })

export const errorReply = (status: number, code: string, message: string): Reply => ({
  status,
  body: errorBody(code, message)
})

// Echoed values are cut short so a hostile request cannot make a huge error message.
const echo = (value: string): string => (value.length > 64 ? `${value.slice(0, 61)}...` : value)

const noSuchIntent = (id: string): Reply =>
  errorReply(404, codes.resourceMissing, `No such payment intent: '${echo(id)}'`)

const isStatus = (u: unknown): u is PaymentIntentStatus.Status =>
  typeof u === "string" && (PaymentIntentStatus.statuses as ReadonlyArray<string>).includes(u)

const captureMethods: ReadonlyArray<unknown> = ["automatic", "automatic_async", "manual"]

const decodeIntent = ParseResult.decodeUnknownEither(PaymentIntent.PaymentIntent)

/** True when a spec's field only shaped the generated intent with a value the generator used as is. */
const shapes = (field: string, value: unknown): boolean =>
  field === "status"
    ? isStatus(value)
    : field === "capture_method"
      ? captureMethods.includes(value)
      : field === "amount" && typeof value === "number" && Number.isSafeInteger(value) && value >= 0

// Oldest first; ties (equal creation times) broken by ID, so the order is total and stable.
const before = (a: Entry, b: Entry): boolean =>
  a.createdMs < b.createdMs || (a.createdMs === b.createdMs && a.key < b.key)

const customerOf = (wire: IntentWire): string | undefined =>
  wire.customer == null ? undefined : typeof wire.customer === "string" ? wire.customer : wire.customer.customer_id

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export class Store {
  private generator!: Generator
  private readonly byId = new Map<string, Entry>()
  private readonly ordered: Array<Entry> = []
  private readonly releaseLog = new Map<string, Release>()
  /** Told of every change after it is made; seeding and `reset` are not changes. */
  onChange: ((change: Change) => void) | undefined = undefined

  constructor(
    private readonly seed: number,
    private readonly initialIntents: number
  ) {
    this.reset()
  }

  /** Back to the seeded state: the same intents as at start, no releases. */
  reset(): void {
    this.byId.clear()
    this.ordered.length = 0
    this.releaseLog.clear()
    this.generator = new Generator(Prng.make(this.seed, "data"))
    for (const wire of this.generator.seed(this.initialIntents)) this.insert(wire)
  }

  private insert(wire: IntentWire): void {
    const entry: Entry = {
      wire,
      json: undefined,
      key: wire.payment_intent_id.toUpperCase(),
      createdMs: Date.parse(wire.created_at)
    }
    this.byId.set(entry.key, entry)
    // New intents are almost always the newest, so this is an append; otherwise a binary search.
    const last = this.ordered[this.ordered.length - 1]
    if (last === undefined || before(last, entry)) {
      this.ordered.push(entry)
      return
    }
    let lo = 0
    let hi = this.ordered.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(this.ordered[mid]!, entry)) lo = mid + 1
      else hi = mid
    }
    this.ordered.splice(lo, 0, entry)
  }

  private indexOf(entry: Entry): number {
    let lo = 0
    let hi = this.ordered.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(this.ordered[mid]!, entry)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private lookup(id: string): Entry | undefined {
    // A malformed ID cannot name anything: 404, as Stripe answers.
    return paymentIntentIdPattern.test(id) ? this.byId.get(id.toUpperCase()) : undefined
  }

  private static json(entry: Entry): string {
    if (entry.json === undefined) entry.json = JSON.stringify(entry.wire)
    return entry.json
  }

  private static envelope(entry: Entry): Reply {
    return { status: 200, body: `{"payment_intent":${Store.json(entry)}}` }
  }

  find(id: string): IntentWire | undefined {
    return this.lookup(id)?.wire
  }

  /** Every intent, newest first. */
  snapshot(): ReadonlyArray<IntentWire> {
    const out: Array<IntentWire> = []
    for (let i = this.ordered.length - 1; i >= 0; i--) out.push(this.ordered[i]!.wire)
    return out
  }

  releases(): ReadonlyArray<Release> {
    return [...this.releaseLog.values()]
  }

  released(id: string): Release | undefined {
    return this.releaseLog.get(id.toUpperCase())
  }

  /**
   * Creates intents from specs (all or none): each is generated for its `status`, `amount`,
   * `capture_method`, `customer` and `created_at`, then any field of the spec overrides the generated
   * one. The result must decode as a `@flex/domain` payment intent; otherwise the error names the field.
   */
  create(specs: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<IntentWire>, string> {
    const created: Array<IntentWire> = []
    const seen = new Set<string>()
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]
      if (!isPlainObject(spec)) return Either.left(`payment_intents[${i}]: Expected an object`)
      const { customer: customerSpec, ...overrides } = spec
      let customer: CustomerEncoded | undefined
      if (typeof customerSpec === "string") {
        customer = this.generator.customer(customerSpec)
        // An unknown customer ID stays an ID: the reference is simply not expanded.
        if (customer === undefined) overrides.customer = customerSpec
      } else if (customerSpec !== undefined) {
        overrides.customer = customerSpec
      }
      const createdMs = typeof spec.created_at === "string" ? Date.parse(spec.created_at) : Number.NaN
      const generated = this.generator.intent({
        id: typeof spec.payment_intent_id === "string" ? spec.payment_intent_id : undefined,
        createdMs: Number.isNaN(createdMs) ? this.generator.tick() : createdMs,
        status: isStatus(spec.status) ? spec.status : "requires_capture",
        amount: typeof spec.amount === "number" ? spec.amount : undefined,
        captureMethod: captureMethods.includes(spec.capture_method)
          ? (spec.capture_method as PaymentIntent.CaptureMethod)
          : undefined,
        customer
      })
      const wire = { ...generated, ...overrides } as IntentWire
      // A generated intent is valid by construction; only what a spec put in as is needs checking
      // (decoding costs four times the generation, which matters when a benchmark seeds 100,000).
      if (!Object.keys(overrides).every((field) => shapes(field, spec[field]))) {
        const decoded = decodeIntent(wire)
        if (Either.isLeft(decoded)) {
          const failure = DecodeFailure.fromParseError(decoded.left)
          return Either.left(
            `payment_intents[${i}]${failure.path === "" ? "" : `.${failure.path}`}: ${failure.message}`
          )
        }
      }
      const key = wire.payment_intent_id.toUpperCase()
      if (this.byId.has(key) || seen.has(key)) {
        return Either.left(`payment_intents[${i}].payment_intent_id: ${wire.payment_intent_id} already exists`)
      }
      seen.add(key)
      created.push(wire)
    }
    for (const wire of created) this.insert(wire)
    for (const wire of created) this.onChange?.({ _tag: "Created", intent: wire })
    return Either.right(created)
  }

  retrieve(id: string): Reply {
    const entry = this.lookup(id)
    return entry === undefined ? noSuchIntent(id) : Store.envelope(entry)
  }

  /** Stripe's semantics through the domain's `cancelability`: cancel, or say why not. */
  cancel(id: string): Reply {
    const entry = this.lookup(id)
    if (entry === undefined) return noSuchIntent(id)
    const from = entry.wire.status as PaymentIntentStatus.Status
    const unexpected = (detail: string) =>
      errorReply(
        400,
        codes.paymentIntentUnexpectedState,
        `You cannot cancel this payment intent because it has a status of ${from}${detail}.`
      )
    return PaymentIntentStatus.Cancelability.$match(PaymentIntentStatus.cancelability(from), {
      Cancelable: () => {
        if (!PaymentIntentStatus.canTransition(from, "canceled")) {
          return unexpected(`, which cannot move to canceled`)
        }
        const released = entry.wire.amount_capturable ?? 0
        entry.wire = { ...entry.wire, status: "canceled", amount_capturable: 0 }
        entry.json = undefined
        this.releaseLog.set(entry.key, {
          payment_intent_id: entry.wire.payment_intent_id,
          amount: released,
          at: new Date().toISOString()
        })
        this.onChange?.({ _tag: "Canceled", intent: entry.wire })
        return Store.envelope(entry)
      },
      AlreadyCanceled: () => unexpected(""),
      NotCancelable: ({ reason }) => unexpected(`: ${reason}`)
    })
  }

  /**
   * The admin transition to `succeeded` (a capture of a hold, a confirmation that went through):
   * `amount_received` becomes the amount, nothing stays capturable, and an expanded invoice is paid.
   */
  succeed(id: string): Reply {
    const entry = this.lookup(id)
    if (entry === undefined) return noSuchIntent(id)
    const from = entry.wire.status as PaymentIntentStatus.Status
    if (!PaymentIntentStatus.canTransition(from, "succeeded")) {
      return errorReply(
        400,
        codes.paymentIntentUnexpectedState,
        `This payment intent cannot succeed because it has a status of ${from}.`
      )
    }
    const invoice = entry.wire.invoice
    entry.wire = {
      ...entry.wire,
      status: "succeeded",
      amount_received: entry.wire.amount,
      amount_capturable: 0,
      ...(typeof invoice === "object" && invoice !== null
        ? { invoice: { ...invoice, status: "paid", amount_paid: invoice.amount_due } }
        : {})
    }
    entry.json = undefined
    this.onChange?.({ _tag: "Succeeded", intent: entry.wire })
    return Store.envelope(entry)
  }

  /** `GET /v1/payment_intents`: newest first, cursors, `customer` and `status` filters, no `has_more`. */
  list(query: URLSearchParams): Reply {
    const limitParam = query.get("limit")
    const limit = limitParam === null ? 10 : /^\d{1,3}$/.test(limitParam) ? Number(limitParam) : Number.NaN
    if (!(limit >= 1 && limit <= 100)) {
      return errorReply(
        400,
        codes.invalidRequest,
        `Invalid limit: must be an integer between 1 and 100, got '${echo(limitParam ?? "")}'`
      )
    }
    const status = query.get("status")
    if (status !== null && !isStatus(status)) {
      return errorReply(
        400,
        codes.invalidRequest,
        `Invalid status: must be one of ${PaymentIntentStatus.statuses.join(", ")}, got '${echo(status)}'`
      )
    }
    const customer = query.get("customer")?.toUpperCase() ?? null
    const startingAfter = query.get("starting_after")
    const endingBefore = query.get("ending_before")
    if (startingAfter !== null && endingBefore !== null) {
      return errorReply(400, codes.invalidRequest, "starting_after and ending_before cannot be used together")
    }
    const matches = (entry: Entry): boolean =>
      (status === null || entry.wire.status === status) &&
      (customer === null || customerOf(entry.wire)?.toUpperCase() === customer)
    const cursor = startingAfter ?? endingBefore
    let from = this.ordered.length - 1
    let step = -1
    if (cursor !== null) {
      const entry = this.lookup(cursor)
      if (entry === undefined) {
        return errorReply(
          400,
          codes.resourceMissing,
          `No such payment intent: '${echo(cursor)}' (${startingAfter !== null ? "starting_after" : "ending_before"})`
        )
      }
      const at = this.indexOf(entry)
      // starting_after walks to older intents; ending_before to newer ones, then flips the page.
      from = startingAfter !== null ? at - 1 : at + 1
      step = startingAfter !== null ? -1 : 1
    }
    const page: Array<Entry> = []
    for (let i = from; i >= 0 && i < this.ordered.length && page.length < limit; i += step) {
      const entry = this.ordered[i]!
      if (matches(entry)) page.push(entry)
    }
    if (step === 1) page.reverse()
    let body = '{"payment_intents":['
    for (let i = 0; i < page.length; i++) body += (i === 0 ? "" : ",") + Store.json(page[i]!)
    return { status: 200, body: `${body}]}` }
  }
}
