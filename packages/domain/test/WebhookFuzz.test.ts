import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Exit, FastCheck as fc, Option, Redacted, Schema } from "effect"
import { Webhook, WebhookEvent } from "../src/index.js"
import { load } from "./fixtures.js"
import { yieldToEventLoop } from "./support/yield.js"

// Fuzzed headers and bodies give a value or one of the typed errors: never a defect, a thrown exception
// or a message that contains the secret.
const keyBase64 = Buffer.from("fuzz-webhook-key-0123456789abcdef").toString("base64")
const secret = Redacted.make(`fwhsec_${keyBase64}`)
const tags = new Set([
  "MissingHeaderError",
  "InvalidHeaderError",
  "SignatureMismatchError",
  "TimestampToleranceError",
  "InvalidPayloadError",
  "InvalidSecretError"
])

const run = async <A>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }>) => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return { ok: true as const, value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  assert.isTrue(Option.isSome(failure), `a defect, not a typed error: ${Cause.pretty(exit.cause)}`)
  const error = Option.getOrThrow(failure)
  assert.isTrue(tags.has(error._tag), error._tag)
  assert.notInclude(error.message, keyBase64)
  assert.notInclude(JSON.stringify(error), keyBase64)
  return { ok: false as const, error }
}

const names = [
  "svix-id",
  "svix-timestamp",
  "svix-signature",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "flex-event-id",
  "flex-timestamp",
  "flex-signature",
  "Svix-Signature",
  "content-type"
]

const base64 = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString("base64"))
const headerValue = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.integer().map(String),
  fc.nat({ max: 2 ** 40 }).map(String),
  base64,
  base64.map((b) => `v1,${b}`),
  fc
    .array(
      fc.oneof(
        base64.map((b) => `v1,${b}`),
        base64.map((b) => `v2,${b}`),
        fc.string()
      ),
      { maxLength: 6 }
    )
    .map((entries) => entries.join(" "))
)
const headers = fc.oneof(
  fc.dictionary(fc.constantFrom(...names), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 }))),
  fc.dictionary(fc.string(), fc.string())
)
const body = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.uint8Array({ maxLength: 200 }), fc.json())
const secrets = fc.oneof(
  fc.constant(secret),
  fc.string().map((s) => Redacted.make(s)),
  fc.array(
    fc.oneof(
      fc.constant(secret),
      fc.string().map((s) => Redacted.make(`whsec_${s}`))
    ),
    { maxLength: 3 }
  )
)

const event = JSON.stringify({
  event_id: "evt_fuzz",
  event_type: "payment_intent.succeeded",
  event_dt: 1_727_784_005,
  object: { payment_intent: load("cancel-response").payment_intent }
})

describe("Webhook fuzzing (fast-check): a value or a typed error, never a defect", () => {
  it("fuzzed headers, bodies and secrets", async () => {
    await fc.assert(
      fc.asyncProperty(body, headers, secrets, async (b, h, s) => {
        await run(Webhook.constructEvent(b, h, s))
        await yieldToEventLoop()
      }),
      { numRuns: 400 }
    )
  })

  it("a fuzzed signature header next to a real id and timestamp never verifies", async () => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    await fc.assert(
      fc.asyncProperty(headerValue, async (signature) => {
        const result = await run(
          Webhook.verify(
            event,
            { "svix-id": "msg_1", "svix-timestamp": timestamp, "svix-signature": signature },
            secret
          )
        )
        assert.isFalse(result.ok)
        await yieldToEventLoop()
      }),
      { numRuns: 300 }
    )
  })

  it("any signed body gives an event or an InvalidPayloadError", async () => {
    const signedBodies = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 200 }),
      fc.json(),
      fc.jsonValue().map((object) => JSON.stringify({ event_id: "e", event_type: "x.y", event_dt: 1, object })),
      fc
        .record({ key: fc.constantFrom("event_id", "event_type", "event_dt", "object"), value: fc.jsonValue() })
        .map(({ key, value }) => JSON.stringify({ ...JSON.parse(event), [key]: value }))
    )
    await fc.assert(
      fc.asyncProperty(signedBodies, async (payload) => {
        const headers = await Effect.runPromise(Webhook.sign({ secret, id: "msg_1", body: payload }))
        const result = await run(Webhook.constructEvent(payload, headers, secret))
        if (!result.ok) assert.strictEqual(result.error._tag, "InvalidPayloadError")
        await yieldToEventLoop()
      }),
      { numRuns: 300 }
    )
  })

  it("every event the schemas can make round-trips through JSON and verifies once signed", async () => {
    const encode = Schema.encodeSync(WebhookEvent.WebhookEvent)
    await fc.assert(
      fc.asyncProperty(Arbitrary.make(WebhookEvent.WebhookEvent), async (event) => {
        const wire = JSON.parse(JSON.stringify(encode(event)))
        const payload = JSON.stringify(wire)
        const headers = await Effect.runPromise(Webhook.sign({ secret, id: "msg_1", body: payload }))
        const result = await run(Webhook.constructEvent(payload, headers, secret))
        assert.isTrue(result.ok)
        if (result.ok) {
          assert.strictEqual(result.value.event_type, event.event_type)
          assert.deepStrictEqual(JSON.parse(JSON.stringify(encode(result.value))), wire)
        }
        await yieldToEventLoop()
      }),
      { numRuns: 100 }
    )
  })

  it("changing any one byte of a signed body breaks its signature", async () => {
    const bytes = new TextEncoder().encode(event)
    const headers = await Effect.runPromise(Webhook.sign({ secret, id: "msg_1", body: bytes }))
    await run(Webhook.constructEvent(bytes, headers, secret)) // the original verifies
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const changed = bytes.slice()
        changed[at] = (changed[at]! + delta) % 256
        const result = await run(Webhook.constructEvent(changed, headers, secret))
        assert.isFalse(result.ok)
        if (!result.ok) assert.strictEqual(result.error._tag, "SignatureMismatchError")
        await yieldToEventLoop()
      }),
      { numRuns: 300 }
    )
  })
})
