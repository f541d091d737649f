/**
 * Why a webhook request was refused: one tagged union, one class per answer a receiver gives differently.
 *
 * The first five mean the request cannot be shown to come from Flex (answer 400; a sender that is not Flex
 * learns nothing more). {@link InvalidPayloadError} means it did come from Flex, signed, but is not an event
 * this version can read (a receiver answers 422 and someone looks). {@link InvalidSecretError} is the
 * receiver's own configuration. No error carries a secret, a signature or a header's raw value: they end
 * up in logs. They are `Schema.TaggedError`s, so they can be stored as data and caught with `catchTag`, and
 * are `Error`s, so a Promise API rejects with them and `instanceof` works.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** The webhook's `svix-id` (or `webhook-id`), once read: names the delivery in logs without the body. */
const messageId = Schema.optional(Schema.String)

const of = (id: string | undefined): string => (id === undefined ? "" : ` (message ${id})`)

/**
 * A header the signature scheme needs is absent or empty. `header` names the one looked for: with no
 * signature header at all, `svix-signature` (also accepted: `webhook-signature`, `flex-signature`).
 *
 * @category errors
 * @since 0.1.0
 */
export class MissingHeaderError extends Schema.TaggedError<MissingHeaderError>(
  "@flex/domain/WebhookError/MissingHeaderError"
)("MissingHeaderError", {
  /** The header's name, e.g. `svix-timestamp`. */
  header: Schema.String
}) {
  override get message(): string {
    return this.header.endsWith("-signature")
      ? `Webhook signature header missing: ${this.header} (or webhook-signature, or flex-signature)`
      : `Webhook header missing: ${this.header}`
  }
}

/**
 * A header is present but not of its form: a timestamp that is not a whole number of Unix seconds, an ID
 * or a signature list longer than any sender writes. `reason` says which, without the value.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidHeaderError extends Schema.TaggedError<InvalidHeaderError>(
  "@flex/domain/WebhookError/InvalidHeaderError"
)("InvalidHeaderError", {
  /** The header's name, e.g. `svix-timestamp`. */
  header: Schema.String,
  /** What is wrong with it, e.g. `expected Unix seconds`. */
  reason: Schema.String,
  /** The delivery's ID, when it was read. */
  messageId
}) {
  override get message(): string {
    return `Invalid webhook header ${this.header}: ${this.reason}${of(this.messageId)}`
  }
}

/**
 * No signature in the header matches the body under any of the secrets: the body was changed (or
 * re-serialised), it was signed with another secret, or it was not signed by Flex. Signatures of a version
 * other than `v1` are ignored, so a header with only those ends here too.
 *
 * @category errors
 * @since 0.1.0
 */
export class SignatureMismatchError extends Schema.TaggedError<SignatureMismatchError>(
  "@flex/domain/WebhookError/SignatureMismatchError"
)("SignatureMismatchError", {
  /** The signature header read, e.g. `svix-signature`. */
  header: Schema.String,
  /** How many `v1` signatures the header held. */
  signatures: Schema.Number,
  /** How many secrets were tried. */
  secrets: Schema.Number,
  /** The delivery's ID. */
  messageId
}) {
  override get message(): string {
    const what = this.signatures === 0 ? "no v1 signature in" : `none of ${this.signatures} v1 signature(s) in`
    return `Webhook signature mismatch: ${what} ${this.header} matches the body under ${this.secrets} secret(s)${of(this.messageId)}`
  }
}

/**
 * The signature is valid but its timestamp is too far from now: a replay of an old delivery, or clocks
 * apart. Checked after the signature, so this error means the message did come from the secret's holder.
 *
 * @category errors
 * @since 0.1.0
 */
export class TimestampToleranceError extends Schema.TaggedError<TimestampToleranceError>(
  "@flex/domain/WebhookError/TimestampToleranceError"
)("TimestampToleranceError", {
  /** The signed timestamp, Unix seconds. */
  timestamp: Schema.Number,
  /** The receiver's clock, Unix seconds. */
  now: Schema.Number,
  /** How far apart they may be, in seconds. */
  toleranceSeconds: Schema.Number,
  /** The delivery's ID. */
  messageId
}) {
  override get message(): string {
    const direction = this.timestamp < this.now ? "old" : "far in the future"
    const apart = Math.abs(this.now - this.timestamp)
    return `Webhook timestamp too ${direction}: ${apart} s from now, tolerance ${this.toleranceSeconds} s${of(this.messageId)}`
  }
}

/**
 * The body is signed but is not an event: not UTF-8, not JSON, or JSON that does not decode as an event
 * (`path` names the field, e.g. `object.payment_intent.status`). An event of an unknown type is not this
 * error: it decodes to `WebhookEvent.UnknownEvent`.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidPayloadError extends Schema.TaggedError<InvalidPayloadError>(
  "@flex/domain/WebhookError/InvalidPayloadError"
)("InvalidPayloadError", {
  /** The dotted path of the offending field; `""` for the whole body. */
  path: Schema.String,
  /** What was wrong, e.g. `not JSON` or `Expected a known payment intent status (…), got "x"`. */
  reason: Schema.String,
  /** The delivery's ID. */
  messageId
}) {
  override get message(): string {
    return `Webhook body is not an event${this.path === "" ? "" : ` at ${this.path}`}: ${this.reason}${of(this.messageId)}`
  }
}

/**
 * A secret given to the verifier is not a signing secret: not base64 after its `whsec_` / `fwhsec_`
 * prefix, or empty; or no secret was given. `index` says which (0-based). The secret is never in the message.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidSecretError extends Schema.TaggedError<InvalidSecretError>(
  "@flex/domain/WebhookError/InvalidSecretError"
)("InvalidSecretError", {
  /** Which secret, 0-based, in the order given. */
  index: Schema.Number,
  /** What is wrong with it. */
  reason: Schema.String
}) {
  override get message(): string {
    return `Invalid webhook secret #${this.index}: ${this.reason}`
  }
}

/**
 * What `Webhook.verify` fails with.
 *
 * @category errors
 * @since 0.1.0
 */
export type VerifyError =
  | MissingHeaderError
  | InvalidHeaderError
  | SignatureMismatchError
  | TimestampToleranceError
  | InvalidSecretError

/**
 * What `Webhook.constructEvent` fails with.
 *
 * @category errors
 * @since 0.1.0
 */
export type WebhookError = VerifyError | InvalidPayloadError

/**
 * The schema of every {@link WebhookError}, to store or send one as data.
 *
 * @category schemas
 * @since 0.1.0
 */
export const WebhookError = Schema.Union(
  MissingHeaderError,
  InvalidHeaderError,
  SignatureMismatchError,
  TimestampToleranceError,
  InvalidPayloadError,
  InvalidSecretError
)

/**
 * True for the errors that mean "not shown to come from Flex" (answer 400), false for
 * {@link InvalidPayloadError} (signed but unreadable: 422) and {@link InvalidSecretError} (the receiver's
 * configuration: 500).
 *
 * @category guards
 * @since 0.1.0
 */
export const isAuthenticationFailure = (error: WebhookError): boolean =>
  error._tag === "MissingHeaderError" ||
  error._tag === "InvalidHeaderError" ||
  error._tag === "SignatureMismatchError" ||
  error._tag === "TimestampToleranceError"
