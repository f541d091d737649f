/**
 * The events Flex sends to a webhook endpoint: an envelope (`event_id`, `event_type`, `event_dt`, `object`)
 * around the object that changed, one schema per event type Flex documents, and {@link WebhookEvent}, their
 * union discriminated by `event_type`.
 *
 * `object` wraps the resource under its name (`{"payment_intent": {…}}`, `{"checkout_session": {…}}`), as
 * Flex's own plugin reads it; an object that is the resource itself is accepted too (Flex's envelope docs
 * say only "an object"), and encodes back in the wrapped form. Payment intents, customers, subscriptions
 * and invoices decode into this package's entities, checked as strictly as an API response. Flex documents
 * the refund object's fields but not which are required, a checkout session only in part, disputes and
 * charges not at all: those schemas are open (every documented field optional, any other field kept).
 *
 * Flex says its list of events is not exhaustive: an event type this version does not know decodes to
 * {@link UnknownEvent}, carrying the raw `object`, never to an error. Because its `event_type` is any
 * string, TypeScript can narrow the union on `event_type` only once unknown events are set aside with
 * {@link isKnown} (or {@link isUnknown}); after that a `switch` narrows each case to its event, and a
 * `default` that assigns to `never` checks that every type is handled.
 *
 * @example
 * ```ts
 * import { WebhookEvent } from "@flex/domain"
 *
 * const handle = (event: WebhookEvent.WebhookEvent): string => {
 *   if (!WebhookEvent.isKnown(event)) return `ignored ${event.event_type}`
 *   switch (event.event_type) {
 *     case "payment_intent.succeeded":
 *       return `paid ${event.object.payment_intent.amount}`
 *     case "checkout.session.completed":
 *     case "checkout_session.completed":
 *       return `completed ${event.object.checkout_session.checkout_session_id}`
 *     default:
 *       return `nothing to do for ${event.event_type}`
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { Customer } from "./Customer.js"
import { Expandable } from "./Expandable.js"
import { CustomerId, InvoiceId, PaymentIntentId, SubscriptionId } from "./Ids.js"
import { Invoice, PaymentIntent, Subscription } from "./internal/billing.js"
import { openEnum, optional, preview } from "./internal/schema.js"
import { parser, type SafeParseResult } from "./Json.js"
import { Metadata } from "./Metadata.js"
import { Amount } from "./Money.js"
import { Timestamp } from "./Timestamps.js"

// ---------------------------------------------------------------------------------------------------
// The envelope
// ---------------------------------------------------------------------------------------------------

/**
 * The ID of an event. Flex documents it as a string and prints no example, so any non-empty string is
 * accepted. It is the same on every redelivery of an event: deduplicate on it.
 *
 * @category ids
 * @since 0.1.0
 */
export const EventId = Schema.String.pipe(
  Schema.minLength(1, { message: () => ({ message: "Expected an event ID, got an empty string", override: true }) }),
  Schema.brand("EventId"),
  Schema.annotations({ identifier: "EventId", description: "a webhook event ID" })
)

/**
 * @category ids
 * @since 0.1.0
 */
export type EventId = typeof EventId.Type

/**
 * When the event happened: an integer. Flex documents neither the unit nor the epoch; Svix, which signs
 * Flex's webhooks, counts Unix seconds, as Flex's checkout sessions do. Kept as the number Flex sends.
 *
 * @category schemas
 * @since 0.1.0
 */
export const EventTime = Schema.Int.annotations({ identifier: "EventTime", description: "an integer time" })

/** The four fields of every event, with `event_type` and `object` given per event type. */
const envelope = <const Type extends string, Object extends Schema.Schema.Any>(type: Type, object: Object) =>
  Schema.Struct({
    /** The event's ID, the same on every redelivery (see {@link EventId}). Required. */
    event_id: EventId,
    /** What happened, e.g. `payment_intent.succeeded`. Required. */
    event_type: Schema.Literal(type),
    /** When it happened (see {@link EventTime}). Required. */
    event_dt: EventTime,
    /** The object that changed, wrapped under its name, e.g. `{"payment_intent": {…}}`. Required. */
    object
  }).annotations({ identifier: `WebhookEvent(${type})` })

/**
 * An `object` that wraps `resource` under `key`, as Flex sends it. An object that is the resource itself
 * (no `key` holding an object) is accepted too and decodes as if wrapped; both encode to the wrapped form.
 * The declared wire type is the wrapped form, the one Flex documents and encoding produces.
 */
const wrapped = <const Key extends string, A, I>(
  key: Key,
  resource: Schema.Schema<A, I>
): Schema.Schema<{ readonly [K in Key]: A }, { readonly [K in Key]: I }> => {
  const fields = {
    /** The resource the event is about, under its name. Required. */
    [key]: resource
  } as { readonly [K in Key]: Schema.Schema<A, I> }
  const Wrapped = Schema.Struct(fields)
  const Bare = Schema.transform(resource, Schema.typeSchema(Wrapped), {
    strict: false,
    decode: (value) => ({ [key]: value }),
    encode: (object) => (object as Record<string, unknown>)[key]
  })
  const decodeWrapped = ParseResult.decodeUnknown(Wrapped)
  const decodeBare = ParseResult.decodeUnknown(Bare)
  const encodeWrapped = ParseResult.encodeUnknown(Wrapped)
  // The form is read from the input rather than tried in turn, so an error names a field of the form sent.
  return Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(Wrapped), {
    strict: false,
    decode: (input, options) =>
      Predicate.isRecord(input) && Predicate.isRecord(input[key])
        ? decodeWrapped(input, options)
        : decodeBare(input, options),
    encode: (object, options) => encodeWrapped(object, options)
  }).annotations({ identifier: `Wrapped(${key})` }) as never
}

/** Every field Flex may add, kept as it came: the objects below are documented in part or not at all. */
const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

// ---------------------------------------------------------------------------------------------------
// Objects only events carry
// ---------------------------------------------------------------------------------------------------

/**
 * The status of a refund, as Flex's plugin enumerates it: `pending`, `requires_action`, `succeeded`,
 * `failed`, `canceled`. Open: another value passes through as a string.
 *
 * @category schemas
 * @since 0.1.0
 */
export const RefundStatus = openEnum("pending", "requires_action", "succeeded", "failed", "canceled").annotations({
  identifier: "RefundStatus"
})

/**
 * A refund, as far as Flex documents it: the fields below (only `refund_id` required here; the docs'
 * ordering suggests the first six are always sent), any other field kept as it came.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Refund = Schema.Struct(
  {
    /** The refund's ID. Flex documents no prefix for it. Required. */
    refund_id: Schema.NonEmptyString,
    /** The payment intent refunded (`fpi_…`). */
    payment_intent_id: optional(PaymentIntentId),
    /** The amount refunded, in cents. */
    amount: optional(Amount),
    /** When the refund was created: an ISO 8601 date-time. */
    created_at: optional(Timestamp),
    /** Where the refund is (see {@link RefundStatus}). */
    status: optional(RefundStatus),
    /** Whether this is test data, made with a `fsk_test_…` key. */
    test_mode: optional(Schema.Boolean),
    /** Why the refund was made; Flex prints only `duplicate`. */
    reason: optional(Schema.String),
    /** Key/value data the merchant attached (see `Metadata`). */
    metadata: optional(Metadata),
    /** A reference from the card network, such as an acquirer reference number. Not documented further. */
    reference_id: optional(Schema.String),
    /** What `reference_id` is; Flex prints only `acquirer_reference_number`. */
    reference_type: optional(Schema.String),
    /** Whether the reference is available yet; Flex prints only `available`. */
    reference_status: optional(Schema.String)
  },
  rest
).annotations({ identifier: "Refund" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Refund extends Schema.Schema.Type<typeof Refund> {}

/**
 * A dispute (`charge.dispute.*` events). Flex documents no field of it, so every field is kept as it came.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Dispute = rest.annotations({ identifier: "Dispute" })

/**
 * @category models
 * @since 0.1.0
 */
export type Dispute = typeof Dispute.Type

/**
 * A charge (`charge.refunded`). Flex documents no field of it, so every field is kept as it came.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Charge = rest.annotations({ identifier: "Charge" })

/**
 * @category models
 * @since 0.1.0
 */
export type Charge = typeof Charge.Type

/**
 * A checkout session (`fcs_…`), as far as Flex's docs show it next to payment intents: the fields below,
 * all optional but the ID, and any other field kept as it came (captures, refunds, disputes, totals, …).
 *
 * @category schemas
 * @since 0.1.0
 */
export const CheckoutSession = Schema.Struct(
  {
    /** The ID: `fcs_` and a ULID, e.g. `fcs_01HW5KTQQAAQ66WV19MFW4DTT4`. Required. */
    checkout_session_id: Schema.NonEmptyString,
    /** `open` or `complete` (the values Flex's plugin knows); another value passes through. */
    status: optional(openEnum("open", "complete")),
    /** `payment`, `subscription`, `setup` or another value. */
    mode: optional(openEnum("payment", "subscription", "setup")),
    /** How the funds are captured: `automatic`, `manual` or another value. */
    capture_method: optional(openEnum("automatic", "manual")),
    /** The total, in cents. */
    amount_total: optional(Amount),
    /** The total before tax and discounts, in cents. */
    amount_subtotal: optional(Amount),
    /** The amount received, in cents. */
    amount_received: optional(Amount),
    /** The amount refunded, in cents. */
    amount_refunded: optional(Amount),
    /** The amount disputed, in cents. */
    amount_disputed: optional(Amount),
    /** The session's payment intent: its ID (`fpi_…`) or the whole intent (`expand_payment_intent=true`). */
    payment_intent: optional(Expandable(PaymentIntentId, PaymentIntent)),
    /** Every payment intent of the session (two for a split cart), as IDs or expanded. */
    payment_intents: optional(Schema.Array(Expandable(PaymentIntentId, PaymentIntent))),
    /** The customer: their ID (`fcus_…`) or the whole customer. */
    customer: optional(Expandable(CustomerId, Customer)),
    /** The invoice, for a subscription: its ID (`fin_…`) or the whole invoice. */
    invoice: optional(Expandable(InvoiceId, Invoice)),
    /** The subscription started: its ID (`fsub_…`) or the whole subscription. */
    subscription: optional(Expandable(SubscriptionId, Subscription)),
    /** The setup intent (`fsi_…`), for a session that saves a payment method. */
    setup_intent: optional(Schema.String),
    /** The merchant's own reference for the session, e.g. an order number. */
    client_reference_id: optional(Schema.String),
    /** Key/value data the merchant attached (see `Metadata`). */
    metadata: optional(Metadata),
    /** Whether this is test data, made with a `fsk_test_…` key. */
    test_mode: optional(Schema.Boolean),
    /** When the session was created: a Unix time (an integer here, unlike the ISO strings elsewhere). */
    created_at: optional(Schema.Int),
    /** When the session expires: a Unix time, as `created_at`. */
    expires_at: optional(Schema.Int),
    /** The hosted checkout page, e.g. `https://checkout.withflex.com/pay/c/fcs_…`. */
    redirect_url: optional(Schema.String),
    /** Where the shopper goes after paying. */
    success_url: optional(Schema.String),
    /** Where the shopper goes after leaving the checkout. */
    cancel_url: optional(Schema.String)
  },
  rest
).annotations({ identifier: "CheckoutSession" })

/**
 * @category models
 * @since 0.1.0
 */
export interface CheckoutSession extends Schema.Schema.Type<typeof CheckoutSession> {}

// ---------------------------------------------------------------------------------------------------
// The objects of events
// ---------------------------------------------------------------------------------------------------

const PaymentIntentObject = wrapped("payment_intent", PaymentIntent)
const CustomerObject = wrapped("customer", Customer)
const SubscriptionObject = wrapped("subscription", Subscription)
const InvoiceObject = wrapped("invoice", Invoice)
const RefundObject = wrapped("refund", Refund)
const DisputeObject = wrapped("dispute", Dispute)
const ChargeObject = wrapped("charge", Charge)
const CheckoutSessionObject = wrapped("checkout_session", CheckoutSession)

// ---------------------------------------------------------------------------------------------------
// One schema per documented event type
// ---------------------------------------------------------------------------------------------------

/**
 * A dispute was opened on a charge.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeDisputeCreated = envelope("charge.dispute.created", DisputeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeDisputeCreated extends Schema.Schema.Type<typeof ChargeDisputeCreated> {}

/**
 * A dispute changed.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeDisputeUpdated = envelope("charge.dispute.updated", DisputeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeDisputeUpdated extends Schema.Schema.Type<typeof ChargeDisputeUpdated> {}

/**
 * A dispute was closed.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeDisputeClosed = envelope("charge.dispute.closed", DisputeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeDisputeClosed extends Schema.Schema.Type<typeof ChargeDisputeClosed> {}

/**
 * Funds withheld for a dispute were returned.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeDisputeFundsReinstated = envelope("charge.dispute.funds_reinstated", DisputeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeDisputeFundsReinstated extends Schema.Schema.Type<typeof ChargeDisputeFundsReinstated> {}

/**
 * Funds were withheld for a dispute.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeDisputeFundsWithdrawn = envelope("charge.dispute.funds_withdrawn", DisputeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeDisputeFundsWithdrawn extends Schema.Schema.Type<typeof ChargeDisputeFundsWithdrawn> {}

/**
 * A refund of a charge changed.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeRefundUpdated = envelope("charge.refund.updated", RefundObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeRefundUpdated extends Schema.Schema.Type<typeof ChargeRefundUpdated> {}

/**
 * A charge was refunded, in full or in part.
 *
 * @category events
 * @since 0.1.0
 */
export const ChargeRefunded = envelope("charge.refunded", ChargeObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface ChargeRefunded extends Schema.Schema.Type<typeof ChargeRefunded> {}

/**
 * A customer was created.
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerCreated = envelope("customer.created", CustomerObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerCreated extends Schema.Schema.Type<typeof CustomerCreated> {}

/**
 * A customer changed.
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerUpdated = envelope("customer.updated", CustomerObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerUpdated extends Schema.Schema.Type<typeof CustomerUpdated> {}

/**
 * A customer was deleted.
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerDeleted = envelope("customer.deleted", CustomerObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerDeleted extends Schema.Schema.Type<typeof CustomerDeleted> {}

/**
 * A subscription was created. Flex's fulfilment guide: provision here (status `trialing` or `active`).
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerSubscriptionCreated = envelope("customer.subscription.created", SubscriptionObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerSubscriptionCreated extends Schema.Schema.Type<typeof CustomerSubscriptionCreated> {}

/**
 * A subscription changed. Not sent at creation, and not reliably on `trialing` → `active` (Flex's guide).
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerSubscriptionUpdated = envelope("customer.subscription.updated", SubscriptionObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerSubscriptionUpdated extends Schema.Schema.Type<typeof CustomerSubscriptionUpdated> {}

/**
 * A subscription ended. Flex's fulfilment guide: revoke access here.
 *
 * @category events
 * @since 0.1.0
 */
export const CustomerSubscriptionDeleted = envelope("customer.subscription.deleted", SubscriptionObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CustomerSubscriptionDeleted extends Schema.Schema.Type<typeof CustomerSubscriptionDeleted> {}

/**
 * An invoice was created. (Flex's events page describes it without printing its name; this is the
 * name the description implies.)
 *
 * @category events
 * @since 0.1.0
 */
export const InvoiceCreated = envelope("invoice.created", InvoiceObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface InvoiceCreated extends Schema.Schema.Type<typeof InvoiceCreated> {}

/**
 * An invoice was paid, including every renewal of a subscription: Flex's most reliable "paid" signal for
 * subscriptions.
 *
 * @category events
 * @since 0.1.0
 */
export const InvoicePaymentSucceeded = envelope("invoice.payment_succeeded", InvoiceObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface InvoicePaymentSucceeded extends Schema.Schema.Type<typeof InvoicePaymentSucceeded> {}

/**
 * A payment intent was created: the shopper started entering payment details.
 *
 * @category events
 * @since 0.1.0
 */
export const PaymentIntentCreated = envelope("payment_intent.created", PaymentIntentObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface PaymentIntentCreated extends Schema.Schema.Type<typeof PaymentIntentCreated> {}

/**
 * A payment intent succeeded. Sent twice for a split cart, once per intent (Flex's guide).
 *
 * @category events
 * @since 0.1.0
 */
export const PaymentIntentSucceeded = envelope("payment_intent.succeeded", PaymentIntentObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface PaymentIntentSucceeded extends Schema.Schema.Type<typeof PaymentIntentSucceeded> {}

/**
 * A refund was created.
 *
 * @category events
 * @since 0.1.0
 */
export const RefundCreated = envelope("refund.created", RefundObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface RefundCreated extends Schema.Schema.Type<typeof RefundCreated> {}

/**
 * A refund changed (Flex's plugin deletes its copy of a refund whose status became a failure).
 *
 * @category events
 * @since 0.1.0
 */
export const RefundUpdated = envelope("refund.updated", RefundObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface RefundUpdated extends Schema.Schema.Type<typeof RefundUpdated> {}

/**
 * A checkout session was completed: fulfil the order. The name Flex's checkout guide and plugin use; its
 * fulfilment guide writes {@link CheckoutSessionCompletedUnderscore}, also accepted.
 *
 * @category events
 * @since 0.1.0
 */
export const CheckoutSessionCompleted = envelope("checkout.session.completed", CheckoutSessionObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CheckoutSessionCompleted extends Schema.Schema.Type<typeof CheckoutSessionCompleted> {}

/**
 * `checkout_session.completed`: the spelling of {@link CheckoutSessionCompleted} in Flex's fulfilment guide.
 * Handle both: `case "checkout.session.completed": case "checkout_session.completed":`.
 *
 * @category events
 * @since 0.1.0
 */
export const CheckoutSessionCompletedUnderscore = envelope("checkout_session.completed", CheckoutSessionObject)
/**
 * @category events
 * @since 0.1.0
 */
export interface CheckoutSessionCompletedUnderscore
  extends Schema.Schema.Type<typeof CheckoutSessionCompletedUnderscore> {}

/**
 * The schema of every event type this version knows, in the order Flex's events page lists them.
 *
 * @category events
 * @since 0.1.0
 */
export const known = [
  ChargeDisputeClosed,
  ChargeDisputeCreated,
  ChargeDisputeFundsReinstated,
  ChargeDisputeFundsWithdrawn,
  ChargeDisputeUpdated,
  ChargeRefundUpdated,
  ChargeRefunded,
  CustomerCreated,
  CustomerDeleted,
  CustomerUpdated,
  CustomerSubscriptionCreated,
  CustomerSubscriptionUpdated,
  CustomerSubscriptionDeleted,
  InvoiceCreated,
  PaymentIntentCreated,
  PaymentIntentSucceeded,
  RefundCreated,
  RefundUpdated,
  InvoicePaymentSucceeded,
  CheckoutSessionCompletedUnderscore,
  CheckoutSessionCompleted
] as const

/**
 * An event of a type this version knows.
 *
 * @category models
 * @since 0.1.0
 */
export type KnownEvent = Schema.Schema.Type<(typeof known)[number]>

/**
 * The event types this version knows.
 *
 * @category models
 * @since 0.1.0
 */
export type KnownEventType = KnownEvent["event_type"]

/**
 * The event types this version knows, as strings.
 *
 * @category events
 * @since 0.1.0
 */
export const knownEventTypes: ReadonlySet<string> = new Set(
  known.map((schema) => (schema.fields.event_type as Schema.Literal<[string]>).literals[0])
)

/**
 * The type of an event this version does not know: any string but the known ones. Branded, so that a
 * known event is not also an {@link UnknownEvent} to TypeScript and {@link isUnknown} narrows both ways.
 *
 * @category schemas
 * @since 0.1.0
 */
export const UnknownEventType = Schema.String.pipe(
  Schema.filter((type) => !knownEventTypes.has(type), {
    message: (issue) => ({
      message: `Expected an event of type ${preview(issue.actual)} to match its schema`,
      override: true
    })
  }),
  Schema.brand("UnknownEventType"),
  Schema.annotations({ identifier: "UnknownEventType" })
)

/**
 * @category models
 * @since 0.1.0
 */
export type UnknownEventType = typeof UnknownEventType.Type

/**
 * An event of a type this version does not know: its envelope, and its `object` as it came. Flex says its
 * list of events is not exhaustive, so such an event is not an error; a handler usually acknowledges it.
 *
 * @category events
 * @since 0.1.0
 */
export const UnknownEvent = Schema.Struct({
  /** The event's ID (see {@link EventId}). Required. */
  event_id: EventId,
  /** The event's type: any string this version does not know (a known one never decodes here). Required. */
  event_type: UnknownEventType,
  /** When it happened (see {@link EventTime}). Required. */
  event_dt: EventTime,
  /** The object, as it came. */
  object: Schema.Unknown
}).annotations({ identifier: "UnknownEvent" })

/**
 * @category events
 * @since 0.1.0
 */
export interface UnknownEvent extends Schema.Schema.Type<typeof UnknownEvent> {}

const members = Schema.Union(UnknownEvent, ...known)

/** The envelope alone, read first so that an envelope error names its field, not "expected one of 21 types". */
const Envelope = Schema.Struct({
  /** See {@link EventId}. */
  event_id: EventId,
  /** Any string here; the members tell the known types apart. */
  event_type: Schema.String,
  /** See {@link EventTime}. */
  event_dt: EventTime,
  /** Read by the member of the event type. */
  object: Schema.Unknown
})

const decodeMember = ParseResult.decodeUnknown(members)
const encodeMember = ParseResult.encodeUnknown(members)

/**
 * Any event: one of the {@link known} types, discriminated by `event_type`, or an {@link UnknownEvent}.
 *
 * @category schemas
 * @since 0.1.0
 */
export const WebhookEvent: Schema.Schema<WebhookEvent, Json> = Schema.transformOrFail(
  Envelope,
  Schema.typeSchema(members),
  {
    strict: false,
    decode: (envelope, options) => decodeMember(envelope, options),
    encode: (event, options) => encodeMember(event, options)
  }
).annotations({ identifier: "WebhookEvent" }) as never

/**
 * @category models
 * @since 0.1.0
 */
export type WebhookEvent = KnownEvent | UnknownEvent

/**
 * An event of a known type in its wire form.
 *
 * @category models
 * @since 0.1.0
 */
export type KnownJson = Schema.Schema.Encoded<(typeof known)[number]>

/**
 * An event of an unknown type in its wire form. Its `event_type` is a plain string at run time, typed as
 * {@link UnknownEventType} so that {@link isKnown} and {@link isUnknown} narrow the wire form too.
 *
 * @category models
 * @since 0.1.0
 */
export interface UnknownJson {
  /** The event's ID. */
  readonly event_id: string
  /** The event's type, one this version does not know. */
  readonly event_type: UnknownEventType
  /** When it happened. */
  readonly event_dt: number
  /** The object, as it came. */
  readonly object: unknown
}

/**
 * An event in its wire form: exactly the JSON Flex sends (`object` wrapped under the resource's name).
 *
 * @category models
 * @since 0.1.0
 */
export type Json = KnownJson | UnknownJson

/**
 * True for an event of a type this version knows; narrows a {@link WebhookEvent} (or its {@link Json}
 * form) to the known events, which a `switch` on `event_type` then narrows further.
 *
 * @category guards
 * @since 0.1.0
 */
export const isKnown = <E extends { readonly event_type: string }>(
  event: E
): event is Extract<E, { readonly event_type: KnownEventType }> => knownEventTypes.has(event.event_type)

/**
 * True for an event of a type this version does not know; narrows to {@link UnknownEvent} (or its wire form).
 *
 * @category guards
 * @since 0.1.0
 */
export const isUnknown = <E extends { readonly event_type: string }>(
  event: E
): event is Exclude<E, { readonly event_type: KnownEventType }> => !knownEventTypes.has(event.event_type)

const json = parser(WebhookEvent, "WebhookEvent")

/**
 * Checks that a value is an event in its wire form and returns it (`object` in the wrapped form, unknown
 * fields of the entities dropped); throws a `Json.ParseFailure` naming the field otherwise. Needs
 * nothing from Effect. It does not check a signature: see `Webhook.constructEvent` for that.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parse: (input: unknown) => Json = json.parse

/**
 * As {@link parse}, without throwing: `{ success: true, data }` or `{ success: false, error }`.
 *
 * @category parsing
 * @since 0.1.0
 */
export const safeParse: (input: unknown) => SafeParseResult<Json> = json.safeParse
