import * as Vm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Redacted, TestClock } from "effect"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { Webhook, WebhookError, WebhookEvent } from "../src/index.js"
import { load } from "./fixtures.js"

// A fixed instant for the signed timestamp; TestClock is set to it (or moved from it) in each test.
const now = 1_727_784_005
const keyBase64 = Buffer.from("flex-webhook-test-key-0123456789").toString("base64")
const secretText = `whsec_${keyBase64}`
const secret = Redacted.make(secretText)
const otherSecret = Redacted.make(`whsec_${Buffer.from("another-key-entirely-9876543210").toString("base64")}`)

const intent = () => load("cancel-response").payment_intent
const eventBody = (eventType = "payment_intent.succeeded") =>
  JSON.stringify({
    event_id: "evt_01J9QKFBF5KZNWJ47TAN9ZT24M",
    event_type: eventType,
    event_dt: now,
    object: { payment_intent: intent() }
  })

const body = eventBody()
const id = "msg_2mC0UzbQ5m8VbnDAB8cPLzJpCZs"

/** Headers signed by the independent implementation, under svix-* or webhook-* names. */
const theirHeaders = (
  options: { body?: string; timestamp?: number; key?: string; prefix?: "svix" | "webhook" } = {}
): Record<string, string> => {
  const timestamp = options.timestamp ?? now
  const signature = new StandardWebhook(options.key ?? secretText).sign(
    id,
    new Date(timestamp * 1000),
    options.body ?? body
  )
  const prefix = options.prefix ?? "svix"
  return { [`${prefix}-id`]: id, [`${prefix}-timestamp`]: String(timestamp), [`${prefix}-signature`]: signature }
}

const atNow = <A, E>(effect: Effect.Effect<A, E>) => Effect.zipRight(TestClock.setTime(now * 1000), effect)

const errorOf = <A, E>(effect: Effect.Effect<A, E>) => Effect.flip(atNow(effect))

describe("Webhook: interoperability with standardwebhooks", () => {
  it.effect("a signature made by standardwebhooks verifies with ours, under svix-* and webhook-* names", () =>
    Effect.gen(function* () {
      for (const prefix of ["svix", "webhook"] as const) {
        const verified = yield* atNow(Webhook.verify(body, theirHeaders({ prefix }), secret))
        assert.deepStrictEqual(verified, { id, timestamp: now, scheme: prefix })
        const event = yield* atNow(Webhook.constructEvent(body, theirHeaders({ prefix }), secret))
        assert.strictEqual(event.event_type, "payment_intent.succeeded")
      }
    })
  )

  it.effect("a signature made by ours verifies with standardwebhooks, and is the same string", () =>
    Effect.gen(function* () {
      const timestamp = Math.floor(Date.now() / 1000) // theirs reads the real clock
      const headers = yield* Webhook.sign({ secret, id, body, timestamp })
      const theirs = new StandardWebhook(secretText)
      const payload = theirs.verify(body, {
        "webhook-id": headers["svix-id"],
        "webhook-timestamp": headers["svix-timestamp"],
        "webhook-signature": headers["svix-signature"]
      }) as { event_id: string }
      assert.strictEqual(payload.event_id, "evt_01J9QKFBF5KZNWJ47TAN9ZT24M")
      assert.strictEqual(headers["svix-signature"], theirs.sign(id, new Date(timestamp * 1000), body))
    })
  )

  it.effect("non-ASCII bodies, as a string or as bytes, sign identically in both", () =>
    Effect.gen(function* () {
      const text = JSON.stringify({ event_id: "e", event_type: "x.y", event_dt: now, object: { name: "Zoë 💳 — ü" } })
      const headers = theirHeaders({ body: text })
      yield* atNow(Webhook.verify(text, headers, secret))
      yield* atNow(Webhook.verify(new TextEncoder().encode(text), headers, secret))
      const ours = yield* Webhook.signature({ secret, id, body: new TextEncoder().encode(text), timestamp: now })
      assert.strictEqual(ours, headers["svix-signature"])
    })
  )
})

describe("Webhook: each rule refuses what breaks it", () => {
  it.effect("a tampered body fails with SignatureMismatchError", () =>
    Effect.gen(function* () {
      const tampered = body.replace('"amount":4999', '"amount":1')
      assert.notStrictEqual(tampered, body)
      const error = yield* errorOf(Webhook.verify(tampered, theirHeaders(), secret))
      assert.strictEqual(error._tag, "SignatureMismatchError")
      if (error._tag === "SignatureMismatchError") assert.strictEqual(error.messageId, id)
    })
  )

  it.effect("a re-serialised body (same JSON, other bytes) fails", () =>
    Effect.gen(function* () {
      const reserialised = JSON.stringify(JSON.parse(body), null, 2)
      assert.deepStrictEqual(JSON.parse(reserialised), JSON.parse(body))
      const error = yield* errorOf(Webhook.constructEvent(reserialised, theirHeaders(), secret))
      assert.strictEqual(error._tag, "SignatureMismatchError")
    })
  )

  it.effect("an old and a future timestamp fail with TimestampToleranceError; the bounds are inclusive", () =>
    Effect.gen(function* () {
      const tolerance = 5 * 60
      for (const [offset, ok] of [
        [-tolerance, true],
        [-tolerance - 1, false],
        [tolerance, true],
        [tolerance + 1, false]
      ] as const) {
        const headers = theirHeaders({ timestamp: now + offset })
        const result = yield* Effect.either(atNow(Webhook.verify(body, headers, secret)))
        assert.strictEqual(Either.isRight(result), ok, `offset ${offset}`)
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left._tag, "TimestampToleranceError")
          if (result.left._tag === "TimestampToleranceError") {
            assert.strictEqual(result.left.timestamp, now + offset)
            assert.strictEqual(result.left.now, now)
            assert.include(result.left.message, offset < 0 ? "too old" : "too far in the future")
          }
        }
      }
    })
  )

  it.effect("the clock is Effect's: moving the TestClock past the tolerance makes a good delivery late", () =>
    Effect.gen(function* () {
      const headers = theirHeaders()
      yield* atNow(Webhook.verify(body, headers, secret))
      yield* TestClock.adjust("5 minutes")
      yield* Webhook.verify(body, headers, secret)
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Webhook.verify(body, headers, secret))
      assert.strictEqual(error._tag, "TimestampToleranceError")
    })
  )

  it.effect("the tolerance is configurable", () =>
    Effect.gen(function* () {
      const headers = theirHeaders({ timestamp: now - 3600 })
      yield* atNow(Webhook.verify(body, headers, secret, { tolerance: "2 hours" }))
      const error = yield* errorOf(
        Webhook.verify(body, theirHeaders({ timestamp: now - 11 }), secret, { tolerance: "10 seconds" })
      )
      assert.strictEqual(error._tag, "TimestampToleranceError")
    })
  )

  it.effect("a signature is checked before the timestamp: a forged old delivery is a mismatch, not late", () =>
    Effect.gen(function* () {
      const error = yield* errorOf(Webhook.verify(body, theirHeaders({ timestamp: now - 3600 }), otherSecret))
      assert.strictEqual(error._tag, "SignatureMismatchError")
    })
  )

  it.effect("a wrong secret fails; during a rotation either secret is accepted", () =>
    Effect.gen(function* () {
      const wrong = yield* errorOf(Webhook.verify(body, theirHeaders(), otherSecret))
      assert.strictEqual(wrong._tag, "SignatureMismatchError")
      if (wrong._tag === "SignatureMismatchError") assert.strictEqual(wrong.secrets, 1)
      // Signed with the old secret, verified by a receiver that holds the new and the old.
      yield* atNow(Webhook.verify(body, theirHeaders(), [otherSecret, secret]))
      yield* atNow(Webhook.verify(body, theirHeaders(), [secret, otherSecret]))
      // Flex sends one signature per secret during its own rotation: either may match.
      const both = theirHeaders()
      const second = (yield* Webhook.sign({ secret: otherSecret, id, body, timestamp: now }))["svix-signature"]
      both["svix-signature"] = `${second} ${both["svix-signature"]}`
      yield* atNow(Webhook.verify(body, both, otherSecret))
      yield* atNow(Webhook.verify(body, both, secret))
      const three = yield* errorOf(
        Webhook.verify(body, both, [
          Redacted.make(`whsec_${Buffer.from("x".repeat(24)).toString("base64")}`),
          Redacted.make(`fwhsec_${Buffer.from("y".repeat(24)).toString("base64")}`)
        ])
      )
      assert.strictEqual(three._tag, "SignatureMismatchError")
      if (three._tag === "SignatureMismatchError") {
        assert.strictEqual(three.signatures, 2)
        assert.strictEqual(three.secrets, 2)
      }
    })
  )

  it.effect("the fwhsec_ prefix, the whsec_ prefix and no prefix are one key", () =>
    Effect.gen(function* () {
      for (const text of [`fwhsec_${keyBase64}`, `whsec_${keyBase64}`, keyBase64, ` whsec_${keyBase64}\n`]) {
        yield* atNow(Webhook.verify(body, theirHeaders(), Redacted.make(text)))
      }
    })
  )

  it.effect("each missing header fails with MissingHeaderError naming it, in each header family", () =>
    Effect.gen(function* () {
      for (const prefix of ["svix", "webhook"] as const) {
        for (const name of ["id", "timestamp", "signature"]) {
          const headers = theirHeaders({ prefix })
          delete headers[`${prefix}-${name}`]
          const error = yield* errorOf(Webhook.verify(body, headers, secret))
          assert.strictEqual(error._tag, "MissingHeaderError")
          if (error._tag === "MissingHeaderError") assert.strictEqual(error.header, `${prefix}-${name}`)
        }
        const empty = { ...theirHeaders({ prefix }), [`${prefix}-id`]: "  " }
        const error = yield* errorOf(Webhook.verify(body, empty, secret))
        assert.deepStrictEqual(
          [error._tag, (error as WebhookError.MissingHeaderError).header],
          ["MissingHeaderError", `${prefix}-id`]
        )
      }
      const none = yield* errorOf(Webhook.verify(body, {}, secret))
      assert.strictEqual(none._tag, "MissingHeaderError")
      assert.include(none.message, "svix-signature")
      assert.include(none.message, "webhook-signature")
    })
  )

  it.effect(
    "extra whitespace: around the header and between entries it is a separator; inside an entry it breaks the signature",
    () =>
      Effect.gen(function* () {
        const headers = theirHeaders()
        const good = headers["svix-signature"]!
        for (const spaced of [`  ${good}  `, `v1,bm90LWl0   ${good}`, `\t${good} v2,abc`]) {
          yield* atNow(Webhook.verify(body, { ...headers, "svix-signature": spaced }, secret))
        }
        for (const broken of [
          good.replace(",", ", "),
          good.replace("v1,", "v1 ,"),
          `${good.slice(0, 20)} ${good.slice(20)}`
        ]) {
          const error = yield* errorOf(Webhook.verify(body, { ...headers, "svix-signature": broken }, secret))
          assert.strictEqual(error._tag, "SignatureMismatchError", broken)
        }
        // The id and timestamp are signed as written after trimming the header's outer whitespace.
        yield* atNow(Webhook.verify(body, { ...headers, "svix-id": ` ${id} `, "svix-timestamp": `${now} ` }, secret))
      })
  )

  it.effect("a header with only unknown version tags matches nothing (the entries are ignored, not errors)", () =>
    Effect.gen(function* () {
      const headers = theirHeaders()
      const value = headers["svix-signature"]!.slice(3)
      for (const tagged of [`v2,${value}`, `v1a,${value}`, `V1,${value}`, value, `v2,${value} v0,${value}`]) {
        const error = yield* errorOf(Webhook.verify(body, { ...headers, "svix-signature": tagged }, secret))
        assert.strictEqual(error._tag, "SignatureMismatchError")
        if (error._tag === "SignatureMismatchError") assert.strictEqual(error.signatures, 0)
      }
    })
  )

  it.effect("a timestamp that is not whole Unix seconds is an InvalidHeaderError", () =>
    Effect.gen(function* () {
      for (const timestamp of ["1727784005.5", "-1727784005", "1727784005abc", "2024-10-01T12:00:05Z", "1e9"]) {
        const error = yield* errorOf(Webhook.verify(body, { ...theirHeaders(), "svix-timestamp": timestamp }, secret))
        assert.strictEqual(error._tag, "InvalidHeaderError", timestamp)
        assert.notInclude(error.message, timestamp)
      }
    })
  )

  it.effect("Flex's legacy flex-* headers: a bare base64 signature", () =>
    Effect.gen(function* () {
      const signed = theirHeaders()
      const legacy = {
        "flex-event-id": id,
        "flex-timestamp": String(now),
        "flex-signature": signed["svix-signature"]!.slice(3)
      }
      const verified = yield* atNow(Webhook.verify(body, legacy, secret))
      assert.strictEqual(verified.scheme, "flex")
      const error = yield* errorOf(Webhook.verify(body, { ...legacy, "flex-signature": "AAAA" }, secret))
      assert.strictEqual(error._tag, "SignatureMismatchError")
    })
  )

  it.effect("headers as a Fetch Headers, as mixed-case records and with repeated values", () =>
    Effect.gen(function* () {
      const signed = theirHeaders()
      yield* atNow(Webhook.verify(body, new Headers(signed), secret))
      const mixed = { "Svix-Id": id, "SVIX-TIMESTAMP": String(now), "svix-Signature": signed["svix-signature"] }
      yield* atNow(Webhook.verify(body, mixed, secret))
      // Node gives a repeated header as an array; joined as Headers.get joins, a repeated timestamp is invalid.
      const repeated = { ...signed, "svix-timestamp": [String(now), String(now)] }
      const error = yield* errorOf(Webhook.verify(body, repeated, secret))
      assert.strictEqual(error._tag, "InvalidHeaderError")
    })
  )
})

describe("Webhook: the body after a valid signature", () => {
  const signedWith = (payload: string | Uint8Array) =>
    Effect.map(Webhook.sign({ secret, id, body: payload, timestamp: now }), (headers) => headers)

  it.effect("bytes and the same string give the same event", () =>
    Effect.gen(function* () {
      const bytes = new TextEncoder().encode(body)
      const fromBytes = yield* atNow(Webhook.constructEvent(bytes, yield* signedWith(bytes), secret))
      const fromText = yield* atNow(Webhook.constructEvent(body, yield* signedWith(body), secret))
      assert.deepStrictEqual(fromBytes, fromText)
    })
  )

  it.effect("bytes from another realm (a Buffer under Jest, a vm context) verify as bytes", () =>
    Effect.gen(function* () {
      const foreign: Uint8Array = Vm.runInNewContext("(bytes) => Uint8Array.from(bytes)")(Buffer.from(body))
      const slice: Uint8Array = Vm.runInNewContext(
        "(bytes) => { const all = new Uint8Array(bytes.length + 4); all.set(bytes, 2); return all.subarray(2, 2 + bytes.length) }"
      )(Buffer.from(body))
      assert.isFalse(foreign instanceof Uint8Array)
      for (const bytes of [foreign, slice]) {
        const event = yield* atNow(Webhook.constructEvent(bytes, yield* signedWith(body), secret))
        assert.strictEqual(event.event_type, "payment_intent.succeeded")
      }
    })
  )

  it.effect("an ArrayBuffer (a Fetch request.arrayBuffer()) verifies as its bytes, also from another realm", () =>
    Effect.gen(function* () {
      const own = new TextEncoder().encode(body).buffer
      const foreign: ArrayBuffer = Vm.runInNewContext(
        "(bytes) => { const out = new ArrayBuffer(bytes.length); new Uint8Array(out).set(bytes); return out }"
      )(Array.from(new TextEncoder().encode(body)))
      assert.isFalse(foreign instanceof ArrayBuffer)
      for (const buffer of [own, foreign]) {
        const event = yield* atNow(Webhook.constructEvent(buffer, yield* signedWith(body), secret))
        assert.strictEqual(event.event_type, "payment_intent.succeeded")
      }
      const tampered = new TextEncoder().encode(body.replace("canceled", "cancelez")).buffer
      const error = yield* errorOf(Webhook.constructEvent(tampered, yield* signedWith(body), secret))
      assert.strictEqual(error._tag, "SignatureMismatchError")
    })
  )

  it.effect("a signed body that is not UTF-8, not JSON, or not an event is an InvalidPayloadError", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string | Uint8Array, string, string]> = [
        [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "", "not UTF-8"],
        ["{not json", "", "not JSON"],
        ["", "", "not JSON"],
        ["[1,2]", "", "Expected"],
        [eventBody().replace('"status":"canceled"', '"status":"maybe"'), "object.payment_intent.status", "maybe"]
      ]
      for (const [payload, path, reason] of cases) {
        const error = yield* errorOf(Webhook.constructEvent(payload, yield* signedWith(payload), secret))
        assert.strictEqual(error._tag, "InvalidPayloadError")
        if (error._tag === "InvalidPayloadError") {
          assert.strictEqual(error.path, path)
          assert.include(error.reason, reason)
          assert.strictEqual(error.messageId, id)
        }
        assert.isFalse(WebhookError.isAuthenticationFailure(error))
      }
    })
  )

  it.effect("a signed event of an unknown type decodes to UnknownEvent", () =>
    Effect.gen(function* () {
      const payload = JSON.stringify({ event_id: "evt_1", event_type: "payout.paid", event_dt: now, object: { a: 1 } })
      const event = yield* atNow(Webhook.constructEvent(payload, yield* signedWith(payload), secret))
      assert.isTrue(WebhookEvent.isUnknown(event))
      assert.deepStrictEqual(event.object, { a: 1 })
    })
  )
})

describe("Webhook: secrets", () => {
  it.effect(
    "a secret that is not base64, an empty one, or none at all is an InvalidSecretError without the secret",
    () =>
      Effect.gen(function* () {
        const bad = "whsec_this is not base64!"
        for (const [secrets, index] of [
          [Redacted.make(bad), 0],
          [[secret, Redacted.make("fwhsec_")], 1],
          [[], 0]
        ] as const) {
          const error = yield* errorOf(Webhook.verify(body, theirHeaders(), secrets))
          assert.strictEqual(error._tag, "InvalidSecretError")
          if (error._tag === "InvalidSecretError") assert.strictEqual(error.index, index)
          assert.notInclude(error.message, "not base64!")
          assert.notInclude(JSON.stringify(error), "not base64!")
        }
        const signing = yield* Effect.flip(Webhook.sign({ secret: Redacted.make(bad), id, body, timestamp: now }))
        assert.strictEqual(signing._tag, "InvalidSecretError")
      })
  )

  it.effect("no error of any kind contains the secret, its key or the expected signature", () =>
    Effect.gen(function* () {
      const expected = theirHeaders()["svix-signature"]!.slice(3)
      const errors = [
        yield* errorOf(Webhook.verify("tampered", theirHeaders(), secret)),
        yield* errorOf(Webhook.verify(body, theirHeaders({ timestamp: now - 9999 }), secret)),
        yield* errorOf(
          Webhook.constructEvent("{}", yield* Webhook.sign({ secret, id, body: "{}", timestamp: now }), secret)
        ),
        yield* errorOf(Webhook.verify(body, {}, secret))
      ]
      for (const error of errors) {
        for (const text of [error.message, JSON.stringify(error), String(error), error.stack ?? ""]) {
          assert.notInclude(text, keyBase64)
          assert.notInclude(text, expected)
        }
      }
    })
  )

  it.effect("generateSecret makes a fwhsec_ secret that signs and verifies, and standardwebhooks reads", () =>
    Effect.gen(function* () {
      const generated = yield* Webhook.generateSecret
      const text = Redacted.value(generated)
      assert.match(text, /^fwhsec_[A-Za-z0-9+/]{32}$/)
      assert.notStrictEqual(text, Redacted.value(yield* Webhook.generateSecret))
      const headers = yield* Webhook.sign({ secret: generated, id, body, timestamp: now })
      yield* atNow(Webhook.verify(body, headers, generated))
      const theirs = new StandardWebhook(text.slice(1)).sign(id, new Date(now * 1000), body)
      assert.strictEqual(theirs, headers["svix-signature"])
    })
  )

  it.effect("sign defaults the timestamp to the Clock's now", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now * 1000 + 999)
      const headers = yield* Webhook.sign({ secret, id, body })
      assert.strictEqual(headers["svix-timestamp"], String(now))
    })
  )
})

describe("Webhook: the result is always a value or a typed error", () => {
  it("a failed verification is a failure, never a defect (checked on an Exit)", async () => {
    const exit = await Effect.runPromiseExit(Webhook.verify(body, { "svix-signature": "x" }, secret))
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) assert.strictEqual(exit.cause._tag, "Fail")
  })
})
