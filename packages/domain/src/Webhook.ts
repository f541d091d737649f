/**
 * Webhook signatures as Flex makes them (the Svix scheme, also published as Standard Webhooks): verify that
 * a request came from Flex and decode its event, or sign one (for tests and for the sandbox).
 *
 * The rules: the signed content is `"{id}.{timestamp}.{body}"` over the raw body bytes; the key is the
 * secret after its `whsec_` / `fwhsec_` prefix, base64-decoded; the signature is HMAC-SHA256, base64; the
 * signature header is a space-separated list of `v1,<base64>` entries (other versions are ignored), any of
 * which may match; the timestamp is Unix seconds and must be within a tolerance of now (5 minutes unless
 * told). The headers are `svix-id` / `svix-timestamp` / `svix-signature`, or the Standard Webhooks names
 * `webhook-*`, or Flex's legacy `flex-event-id` / `flex-timestamp` / `flex-signature` (whose signature is
 * bare base64, without `v1,`). Several secrets can be given, for a rotation: a signature under any of them
 * is accepted.
 *
 * Work on the body exactly as it arrived: a body parsed and serialised again fails whenever its bytes
 * differ (spacing, key order, escapes), and compact JSON that happens to survive it proves nothing.
 * Only WebCrypto (`globalThis.crypto.subtle`) is used, so this runs in Node 20 and anywhere WebCrypto
 * exists; the time is Effect's `Clock`, so `TestClock` controls it in tests.
 *
 * @example
 * ```ts
 * import { Webhook } from "@flex/domain"
 * import { Effect, Redacted } from "effect"
 *
 * declare const body: string // the raw request body, unparsed
 * declare const headers: Record<string, string>
 *
 * const program = Webhook.constructEvent(body, headers, Redacted.make(process.env.FLEX_WEBHOOK_SECRET!)).pipe(
 *   Effect.tap((event) => Effect.log(`${event.event_type} ${event.event_id}`)),
 *   Effect.catchTag("SignatureMismatchError", (error) => Effect.logWarning(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as DecodeFailure from "./DecodeFailure.js"
import * as Decoder from "./Decoder.js"
import {
  InvalidHeaderError,
  InvalidPayloadError,
  InvalidSecretError,
  MissingHeaderError,
  SignatureMismatchError,
  TimestampToleranceError,
  type VerifyError,
  type WebhookError
} from "./WebhookError.js"
import * as WebhookEvent from "./WebhookEvent.js"

/**
 * The raw body: the bytes as received (a `Uint8Array`, a Node `Buffer`, or the `ArrayBuffer` of a Fetch
 * `Request.arrayBuffer()`), or the same bytes read as a string (UTF-8).
 *
 * @category models
 * @since 0.1.0
 */
export type Body = string | Uint8Array | ArrayBuffer

/**
 * The request headers: a Fetch `Headers`, or a record such as Node's `IncomingHttpHeaders` or
 * `@effect/platform`'s `Headers` (names in any case; a repeated header as an array).
 *
 * @category models
 * @since 0.1.0
 */
export type HeadersInput =
  | { readonly get: (name: string) => string | null }
  | { readonly [name: string]: string | ReadonlyArray<string> | undefined }

/**
 * One signing secret (`whsec_…` or `fwhsec_…`), or several during a rotation (any of them may match).
 *
 * @category models
 * @since 0.1.0
 */
export type Secrets = Redacted.Redacted<string> | ReadonlyArray<Redacted.Redacted<string>>

/**
 * @category models
 * @since 0.1.0
 */
export interface VerifyOptions {
  /**
   * How far the signed timestamp may be from now, either way. Defaults to 5 minutes, as Svix's and
   * Standard Webhooks' libraries do.
   */
  readonly tolerance?: Duration.DurationInput | undefined
}

/**
 * What a valid signature vouches for, besides the body.
 *
 * @category models
 * @since 0.1.0
 */
export interface Verified {
  /** The delivery's ID (`svix-id`): the same on every redelivery of the event. */
  readonly id: string
  /** The signed timestamp, Unix seconds. */
  readonly timestamp: number
  /** Which header family carried the signature: `svix`, `webhook` or `flex` (legacy). */
  readonly scheme: Scheme
}

/**
 * The header families: `svix-*`, Standard Webhooks' `webhook-*`, Flex's legacy `flex-*`.
 *
 * @category models
 * @since 0.1.0
 */
export type Scheme = "svix" | "webhook" | "flex"

/**
 * The default tolerance: 5 minutes.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultTolerance: Duration.Duration = Duration.minutes(5)

interface Family {
  readonly scheme: Scheme
  readonly id: string
  readonly timestamp: string
  readonly signature: string
  /** Whether signatures carry a version (`v1,<base64>`); the legacy family's are bare base64. */
  readonly versioned: boolean
}

// Looked for in this order: Flex's docs name `svix-*`; its plugin also reads the other two.
const families: ReadonlyArray<Family> = [
  { scheme: "svix", id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature", versioned: true },
  {
    scheme: "webhook",
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
    versioned: true
  },
  { scheme: "flex", id: "flex-event-id", timestamp: "flex-timestamp", signature: "flex-signature", versioned: false }
]

// Bounds no sender comes near, so that a hostile header costs nothing to refuse.
const maxIdLength = 256
const maxSignatureHeaderLength = 8192

// ---------------------------------------------------------------------------------------------------
// Bytes, base64, HMAC
// ---------------------------------------------------------------------------------------------------

const encoder = new TextEncoder()

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/

/** Strict base64 (standard alphabet, padding optional) to bytes, or `undefined`. */
const fromBase64 = (text: string): Uint8Array | undefined => {
  if (!base64Pattern.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}

/** The key bytes of a secret: base64 after an optional `whsec_` / `fwhsec_` prefix. */
const keyBytes = (secret: Redacted.Redacted<string>, index: number): Either.Either<Uint8Array, InvalidSecretError> => {
  if (!Redacted.isRedacted(secret)) {
    return Either.left(new InvalidSecretError({ index, reason: "not a Redacted string (wrap it: Redacted.make)" }))
  }
  const raw: unknown = Redacted.value(secret)
  const value = typeof raw === "string" ? raw.trim() : ""
  const body = value.startsWith("whsec_") ? value.slice(6) : value.startsWith("fwhsec_") ? value.slice(7) : value
  if (body === "") return Either.left(new InvalidSecretError({ index, reason: "empty" }))
  const bytes = fromBase64(body)
  return bytes === undefined
    ? Either.left(new InvalidSecretError({ index, reason: "not base64 after its whsec_ or fwhsec_ prefix" }))
    : Either.right(bytes)
}

const secretList = (secrets: Secrets): ReadonlyArray<Redacted.Redacted<string>> =>
  Array.isArray(secrets) ? secrets : [secrets as Redacted.Redacted<string>]

const keysOf = (secrets: Secrets): Either.Either<ReadonlyArray<Uint8Array>, InvalidSecretError> => {
  const list = secretList(secrets)
  if (list.length === 0) return Either.left(new InvalidSecretError({ index: 0, reason: "no secret given" }))
  const keys: Array<Uint8Array> = []
  for (let i = 0; i < list.length; i++) {
    const key = keyBytes(list[i]!, i)
    if (Either.isLeft(key)) return Either.left(key.left)
    keys.push(key.right)
  }
  return Either.right(keys)
}

const subtle = () => {
  const crypto = globalThis.crypto
  if (crypto?.subtle === undefined) throw new Error("Webhook: WebCrypto (globalThis.crypto.subtle) is not available")
  return crypto.subtle
}

/**
 * True for a `Uint8Array` (a Node `Buffer` included) from any realm. Not `instanceof`: under Jest, or in a
 * `vm` context, the `Buffer` a server hands over is another realm's, and `instanceof Uint8Array` is false
 * for it (the tag getter is shared by every realm's typed arrays, so it is not fooled).
 */
const isBytes = (u: unknown): u is Uint8Array =>
  ArrayBuffer.isView(u) && Object.prototype.toString.call(u) === "[object Uint8Array]"

/** An `ArrayBuffer` from any realm (see {@link isBytes}). */
const isArrayBuffer = (u: unknown): u is ArrayBuffer => Object.prototype.toString.call(u) === "[object ArrayBuffer]"

/** The body as a string or bytes; anything else (a parsed body, from a caller without types) as is. */
const normalized = (body: Body): string | Uint8Array => (isArrayBuffer(body) ? new Uint8Array(body) : body)

/** `"{id}.{timestamp}."` followed by the body's own bytes. */
const signedContent = (id: string, timestamp: string, body: Body): Uint8Array => {
  const prefix = encoder.encode(`${id}.${timestamp}.`)
  // Anything but a string or bytes (a parsed body, from a caller without types) cannot match a signature.
  const raw = normalized(body)
  const bytes = typeof raw === "string" ? encoder.encode(raw) : isBytes(raw) ? raw : encoder.encode(String(raw))
  const content = new Uint8Array(prefix.length + bytes.length)
  content.set(prefix, 0)
  content.set(bytes, prefix.length)
  return content
}

/** The base64 HMAC-SHA256 of `content` under `key`. */
const hmac = (key: Uint8Array, content: Uint8Array): Effect.Effect<string> =>
  Effect.promise(async () => {
    const crypto = subtle()
    const imported = await crypto.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    return toBase64(new Uint8Array(await crypto.sign("HMAC", imported, content)))
  })

/**
 * Constant-time equality of two ASCII strings: the time depends on the length only, never on where they
 * differ, so a sender cannot find a valid signature byte by byte. (The length is not secret: every v1
 * signature is 44 characters.)
 */
const timingSafeEqual = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

// ---------------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------------

const isFetchHeaders = (headers: HeadersInput): headers is { readonly get: (name: string) => string | null } =>
  typeof (headers as { get?: unknown }).get === "function"

/** A header's value (trimmed; repeated values joined with `, `, as `Headers.get` does), or `undefined`. */
const header = (headers: HeadersInput, name: string): string | undefined => {
  // Callers without types can pass anything: no headers at all reads as every header missing.
  if (typeof headers !== "object" || headers === null) return undefined
  let value: string | ReadonlyArray<string> | null | undefined
  if (isFetchHeaders(headers)) {
    value = headers.get(name)
  } else {
    value = headers[name]
    if (value === undefined) {
      for (const key of Object.keys(headers)) {
        if (key.toLowerCase() === name) {
          value = headers[key]
          break
        }
      }
    }
  }
  if (value === null || value === undefined) return undefined
  const text = (typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : String(value)).trim()
  return text === "" ? undefined : text
}

// ---------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------

const toleranceSeconds = (options: VerifyOptions | undefined): number => {
  const tolerance = options?.tolerance === undefined ? defaultTolerance : Duration.decode(options.tolerance)
  return Duration.toSeconds(tolerance)
}

/**
 * Checks that `body` was signed by the holder of one of `secrets`, within the tolerance of now, and returns
 * what the signature vouches for besides the body: the delivery's ID and timestamp. The signature is
 * checked before the timestamp, so a {@link TimestampToleranceError} means the message is genuine but late.
 *
 * @category verification
 * @since 0.1.0
 */
export const verify = (
  body: Body,
  headers: HeadersInput,
  secrets: Secrets,
  options?: VerifyOptions
): Effect.Effect<Verified, VerifyError> =>
  Effect.gen(function* () {
    const keys = yield* keysOf(secrets)
    const tolerance = toleranceSeconds(options)

    // The family is the one whose signature header is present; its other two headers must be there too.
    const family = families.find((f) => header(headers, f.signature) !== undefined)
    if (family === undefined) {
      const partial = families.find(
        (f) => header(headers, f.id) !== undefined || header(headers, f.timestamp) !== undefined
      )
      return yield* new MissingHeaderError({ header: (partial ?? families[0]!).signature })
    }
    const id = header(headers, family.id)
    if (id === undefined) return yield* new MissingHeaderError({ header: family.id })
    if (id.length > maxIdLength) {
      return yield* new InvalidHeaderError({ header: family.id, reason: `longer than ${maxIdLength} characters` })
    }
    const messageId = id
    const timestampText = header(headers, family.timestamp)
    if (timestampText === undefined) return yield* new MissingHeaderError({ header: family.timestamp })
    if (!/^[0-9]{1,15}$/.test(timestampText)) {
      return yield* new InvalidHeaderError({
        header: family.timestamp,
        reason: "expected a whole number of Unix seconds",
        messageId
      })
    }
    const timestamp = Number(timestampText)
    const signatureHeader = header(headers, family.signature)!
    if (signatureHeader.length > maxSignatureHeaderLength) {
      return yield* new InvalidHeaderError({
        header: family.signature,
        reason: `longer than ${maxSignatureHeaderLength} characters`,
        messageId
      })
    }

    // Entries are separated by spaces (runs of blanks are one separator, as Svix's library splits and
    // drops empties); an entry of another version than v1 is skipped, as Svix's library does.
    const signatures: Array<string> = []
    for (const entry of signatureHeader.split(/[ \t]+/)) {
      if (entry === "") continue
      const comma = entry.indexOf(",")
      if (comma === -1) {
        if (!family.versioned) signatures.push(entry)
        continue
      }
      if (entry.slice(0, comma) === "v1") signatures.push(entry.slice(comma + 1))
    }

    const content = signedContent(id, timestampText, body)
    let matched = false
    for (const key of keys) {
      const expected = yield* hmac(key, content)
      for (const signature of signatures) {
        if (timingSafeEqual(expected, signature)) matched = true
      }
      if (matched) break
    }
    if (!matched) {
      return yield* new SignatureMismatchError({
        header: family.signature,
        signatures: signatures.length,
        secrets: keys.length,
        messageId
      })
    }

    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    if (Math.abs(now - timestamp) > tolerance) {
      return yield* new TimestampToleranceError({ timestamp, now, toleranceSeconds: tolerance, messageId })
    }
    return { id, timestamp, scheme: family.scheme }
  })

const decodeEvent = Decoder.decodeUnknownEither(WebhookEvent.WebhookEvent)
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * Decodes a body already verified (or one you trust) as an event. An unknown event type is not an error
 * (see `WebhookEvent.UnknownEvent`).
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeBody = (
  body: Body,
  messageId?: string
): Effect.Effect<WebhookEvent.WebhookEvent, InvalidPayloadError> =>
  Effect.suspend(() => {
    const fail = (path: string, reason: string) =>
      Effect.fail(new InvalidPayloadError({ path, reason, ...(messageId === undefined ? {} : { messageId }) }))
    let text: string
    try {
      const raw = normalized(body)
      text = typeof raw === "string" ? raw : utf8.decode(raw)
    } catch {
      return fail("", "not UTF-8")
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return fail("", "not JSON")
    }
    const decoded = decodeEvent(json)
    if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
    const failure = DecodeFailure.fromParseError(decoded.left)
    return fail(failure.path, failure.message)
  })

/**
 * {@link verify}, then decode the body as an event: what a receiver calls. `body` is the raw body (a
 * string or the bytes, exactly as received), `headers` the request's, `secrets` one signing secret or
 * several during a rotation.
 *
 * @category verification
 * @since 0.1.0
 */
export const constructEvent = (
  body: Body,
  headers: HeadersInput,
  secrets: Secrets,
  options?: VerifyOptions
): Effect.Effect<WebhookEvent.WebhookEvent, WebhookError> =>
  Effect.flatMap(verify(body, headers, secrets, options), (verified) => decodeBody(body, verified.id))

// ---------------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------------

/**
 * @category models
 * @since 0.1.0
 */
export interface SignOptions {
  /** The signing secret, `whsec_…` or `fwhsec_…`. */
  readonly secret: Redacted.Redacted<string>
  /** The delivery's ID, e.g. `msg_…`; keep it across redeliveries of one event. */
  readonly id: string
  /** The body to send, exactly as it will be sent. */
  readonly body: Body
  /** Unix seconds; defaults to the `Clock`'s now. */
  readonly timestamp?: number | undefined
}

/**
 * The three headers of a signed delivery.
 *
 * @category models
 * @since 0.1.0
 */
export type SignedHeaders = {
  readonly "svix-id": string
  readonly "svix-timestamp": string
  readonly "svix-signature": string
}

/**
 * The `v1,<base64>` signature of a delivery.
 *
 * @category signing
 * @since 0.1.0
 */
export const signature = (options: SignOptions): Effect.Effect<string, InvalidSecretError> =>
  Effect.gen(function* () {
    const key = yield* keyBytes(options.secret, 0)
    const timestamp = options.timestamp ?? Math.floor((yield* Clock.currentTimeMillis) / 1000)
    return `v1,${yield* hmac(key, signedContent(options.id, String(timestamp), options.body))}`
  })

/**
 * Signs a delivery as Flex does: the `svix-id`, `svix-timestamp` and `svix-signature` headers to send with
 * `body`. (For Standard Webhooks' names, rename the prefix: the values are the same.)
 *
 * @category signing
 * @since 0.1.0
 */
export const sign = (options: SignOptions): Effect.Effect<SignedHeaders, InvalidSecretError> =>
  Effect.gen(function* () {
    const timestamp = options.timestamp ?? Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const value = yield* signature({ ...options, timestamp })
    return { "svix-id": options.id, "svix-timestamp": String(timestamp), "svix-signature": value }
  })

/**
 * A new signing secret: `fwhsec_` and 24 random bytes in base64, as Flex issues them.
 *
 * @category signing
 * @since 0.1.0
 */
export const generateSecret: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() => {
  const bytes = new Uint8Array(24)
  globalThis.crypto.getRandomValues(bytes)
  return Redacted.make(`fwhsec_${toBase64(bytes)}`)
})
