/**
 * `Decoder.decodeUnknownEither` answers exactly what `ParseResult.decodeUnknownEither` answers: the same
 * accepted and rejected inputs, the same decoded values (objects, key order, prototypes, `DateTime`
 * instants, `Redacted` contents), the same issues. Checked on the realistic responses and on generated
 * valid values, mutated or not, and on the compiled fast path alone: it never accepts what Effect
 * rejects, and it does accept the valid responses (so the comparison is not between two Effect runs).
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, FastCheck as fc, ParseResult, Redacted, Schema } from "effect"
import * as DecodeFailure from "../src/DecodeFailure.js"
import * as Decoder from "../src/Decoder.js"
import * as Internal from "../src/internal/decoder.js"
import { optional } from "../src/internal/schema.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import {
  build,
  generatedCases,
  materialize,
  mutation,
  mutations,
  realistic,
  realisticCases,
  replacement,
  scalars,
  valid
} from "./mutations.js"
import { yieldToEventLoop } from "./support/yield.js"

/** Deep equality that also looks where `assert.deepStrictEqual` does not: key order, secrets. */
const same = (actual: unknown, expected: unknown, path = "$"): void => {
  if (Object.is(actual, expected)) return
  assert.strictEqual(typeof actual, typeof expected, `${path}: type`)
  if (typeof expected !== "object" || expected === null || actual === null) {
    assert.fail(`${path}: ${String(actual)} !== ${String(expected)}`)
  }
  const a = actual as object
  const e = expected as object
  assert.strictEqual(Object.getPrototypeOf(a), Object.getPrototypeOf(e), `${path}: prototype`)
  if (Redacted.isRedacted(e)) {
    same(Redacted.value(a as Redacted.Redacted), Redacted.value(e), `${path}<redacted>`)
    return
  }
  if (DateTime.isDateTime(e)) {
    assert.strictEqual(DateTime.toEpochMillis(a as DateTime.DateTime), DateTime.toEpochMillis(e), path)
  }
  assert.deepStrictEqual(Reflect.ownKeys(a), Reflect.ownKeys(e), `${path}: keys`)
  for (const key of Reflect.ownKeys(e)) {
    same((a as any)[key], (e as any)[key], `${path}.${String(key)}`)
  }
}

const cache = new Map<Schema.Schema<any, any>, readonly [Internal.Fast, (u: unknown) => Either.Either<any, any>]>()
const decoders = (schema: Schema.Schema<any, any>) => {
  let found = cache.get(schema)
  if (found === undefined) {
    found = [Internal.compile(schema.ast), Decoder.decodeUnknownEither(schema)] as const
    cache.set(schema, found)
  }
  return found
}

const tooDeep = "too deeply nested to show"

/** Both decoders, and the fast path alone, on one input. */
const agree = (schema: Schema.Schema<any, any>, input: unknown): "accepted" | "rejected" => {
  const [fast, decoder] = decoders(schema)
  const effect = ParseResult.decodeUnknownEither(schema)(input)
  const ours = decoder(input)
  const shortcut = fast(input)
  if (Either.isRight(effect)) {
    assert.isTrue(Either.isRight(ours), "Decoder rejects what Effect accepts")
    same(Either.getOrThrow(ours), effect.right)
    if (shortcut !== Internal.Reject && shortcut !== Internal.Bail) same(shortcut, effect.right)
    return "accepted"
  }
  assert.isTrue(shortcut === Internal.Reject || shortcut === Internal.Bail, "the fast path accepts what Effect rejects")
  assert.isTrue(Either.isLeft(ours), "Decoder accepts what Effect rejects")
  if (Either.isLeft(ours)) {
    const a = DecodeFailure.fromParseError(ours.left)
    const b = DecodeFailure.fromParseError(effect.left)
    // Describing an issue thousands of levels deep may overflow the stack, and where it does depends on
    // the stack left and the JIT's frame sizes: then only the path is described, and only it compares.
    if (a.message.includes(tooDeep) || b.message.includes(tooDeep)) assert.strictEqual(a.path, b.path)
    else assert.deepStrictEqual(a, b)
  }
  return "rejected"
}

/** Mutations that keep a response valid: optional fields dropped or null, IDs in lower case, extra keys. */
const validMutation = fc.oneof(
  fc
    .constantFrom("amount_capturable", "customer", "invoice", "client_secret", "metadata", "transfer_group")
    .map((key) => (pi: any) => {
      pi[key] = null
    }),
  fc
    .constantFrom("amount_received", "customer", "invoice", "payment_method", "transfer_data")
    .map((key) => (pi: any) => {
      delete pi[key]
    }),
  fc.constant((pi: any) => {
    pi.payment_intent_id = pi.payment_intent_id.toLowerCase()
  }),
  fc.constant((pi: any) => {
    pi.customer = pi.customer.customer_id
  }),
  fc.constant((pi: any) => {
    pi.invoice.subscription.items.push(structuredClone(pi.invoice.subscription.items[0]))
  }),
  fc.constant((pi: any) => {
    pi.invoice.subscription.items[0].price.product.hsa_fsa_eligibility = "dental"
  }),
  fc.constant((pi: any) => {
    pi.metadata = { b: "2", a: "1", __proto__x: "3" }
  }),
  fc
    .tuple(fc.constantFrom("extra", "x_new", "__proto__", "constructor"), replacement)
    .map(([key, value]) => (pi: any) => {
      Object.defineProperty(pi.invoice, key, { value: materialize(value), enumerable: true, writable: true })
    })
)

// Hundreds of inputs per property, each decoded three ways: slow on a loaded 2-core CI machine.
describe("Decoder.decodeUnknownEither gives Effect's answers", { timeout: 120_000 }, () => {
  it("takes the fast path on the valid responses", () => {
    for (const [name, base, schema] of realisticCases) {
      const [fast] = decoders(schema)
      const input = base()
      if (Either.isRight(ParseResult.decodeUnknownEither(schema)(input))) {
        const value = fast(input)
        assert.isTrue(value !== Internal.Reject && value !== Internal.Bail, name)
      }
    }
    assert.strictEqual(agree(PaymentIntent.Envelope, realistic()), "accepted")
  })

  it("on realistic responses with changes that keep them valid", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validMutation, { minLength: 1, maxLength: 5 }), async (changes) => {
        await yieldToEventLoop()
        const input = realistic() as any
        for (const change of changes) {
          try {
            change(input.payment_intent)
          } catch {
            // An earlier change removed what this one changes.
          }
        }
        agree(PaymentIntent.Envelope, input)
      }),
      { numRuns: 300 }
    )
  })

  for (const [name, base, schema] of realisticCases) {
    it(`on ${name} with 1–4 mutations`, async () => {
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          await yieldToEventLoop()
          agree(schema, build(base(), ms))
        }),
        { numRuns: 300 }
      )
    })
  }

  for (const [name, schema, numRuns] of generatedCases) {
    it(`on generated ${name} values, as generated and with 0–2 mutations`, async () => {
      await fc.assert(
        fc.asyncProperty(valid(schema), fc.array(mutation, { maxLength: 2 }), async (base, ms) => {
          await yieldToEventLoop()
          agree(schema, base)
          if (ms.length > 0) agree(schema, build(base, ms))
        }),
        { numRuns }
      )
    })
  }

  it("on the scalar schemas, whatever the input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(replacement.map(materialize), fc.anything()), async (input) => {
        await yieldToEventLoop()
        for (const schema of scalars) agree(schema, input)
      }),
      { numRuns: 500 }
    )
  })

  it("on schema shapes the domain does not use yet", async () => {
    const Tagged = Schema.Union(
      Schema.Struct({ kind: Schema.Literal("a"), n: Schema.Number }),
      Schema.Struct({ kind: Schema.Literal("b"), s: Schema.String })
    )
    const shapes: ReadonlyArray<Schema.Schema<any, any>> = [
      Schema.Struct({}),
      Schema.Struct({ a: Schema.optional(Schema.String), b: Schema.NullOr(Schema.Number) }),
      Schema.Record({ key: Schema.String, value: Schema.Number }),
      Schema.Struct({ a: Schema.String }, Schema.Record({ key: Schema.String, value: Schema.String })),
      Schema.Struct({ n: Schema.NumberFromString }, Schema.Record({ key: Schema.String, value: Schema.String })),
      Schema.Union(Schema.Struct({ a: Schema.String }), Schema.Struct({ a: Schema.String, b: Schema.String })),
      Tagged,
      Schema.Tuple(Schema.String, Schema.Number),
      Schema.Array(Schema.Union(Schema.Literal(1, 2), Schema.String)),
      Schema.NumberFromString,
      Schema.Struct({ n: Schema.NumberFromString, d: Schema.optionalWith(Schema.String, { default: () => "x" }) }),
      Schema.Struct({ s: optional(Schema.Redacted(Schema.String)) }),
      Schema.String.annotations({ decodingFallback: () => Either.right("fallback") }),
      Schema.Struct({ a: Schema.String }).annotations({ parseOptions: { onExcessProperty: "error" } })
    ]
    const input = fc.oneof(
      fc.anything(),
      fc.dictionary(
        fc.constantFrom("a", "b", "n", "d", "s", "kind"),
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constantFrom("a", "b", "1"))
      )
    )
    await fc.assert(
      fc.asyncProperty(input, async (u) => {
        await yieldToEventLoop()
        for (const schema of shapes) agree(schema, u)
      }),
      { numRuns: 1000 }
    )
  })
})
