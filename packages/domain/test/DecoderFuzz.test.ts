/**
 * Property-based fuzzing of every decoder with mutated realistic responses (issue 8, "bad input"):
 * the documented cancel response and generated valid values, with 1–4 mutations each — wrong types,
 * missing required fields, huge strings, deep nesting, odd unicode, extreme numbers. Whatever comes in,
 * a decoder answers with a value or a typed parse issue, never a thrown exception (a defect), and the
 * one-line `DecodeFailure` made of it stays short and never carries a secret from the input.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, ParseResult, Schema } from "effect"
import * as Customer from "../src/Customer.js"
import * as DecodeFailure from "../src/DecodeFailure.js"
import * as ErrorBody from "../src/ErrorBody.js"
import * as Ids from "../src/Ids.js"
import * as Invoice from "../src/Invoice.js"
import * as Metadata from "../src/Metadata.js"
import * as Money from "../src/Money.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import * as PaymentMethod from "../src/PaymentMethod.js"
import * as Price from "../src/Price.js"
import * as Product from "../src/Product.js"
import * as ShippingAddress from "../src/ShippingAddress.js"
import * as Subscription from "../src/Subscription.js"
import * as SubscriptionItem from "../src/SubscriptionItem.js"
import * as Timestamps from "../src/Timestamps.js"

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as Json

/** The documented cancel response, with its secrets made recognisable. */
const realistic = (): Json => {
  const envelope = fixture("cancel-response.json") as any
  envelope.payment_intent.client_secret = "fpi_secret_DOMAIN_CANARY_1"
  return envelope
}
const secrets = ["DOMAIN_CANARY_1"]

// ---------------------------------------------------------------------------------------------------
// Mutations

const deep = (depth: number, leaf: Json, asArray: boolean): Json => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value }
  return value
}

const oddStrings = [
  "",
  " ",
  "\u0000",
  "\uD800",
  "\uDFFF\uD800",
  "\u202Egnp.exe",
  "\u200B\u200C\u200D\uFEFF",
  "👩‍👩‍👧‍👦",
  "e\u0301\u0301\u0301",
  "ℌ𝔢𝔩𝔩𝔬",
  "null",
  "fpi_",
  "fpi_01J9M9S346Q3D25VT4F5V37E3S\u0000",
  "2024-02-30T25:61:61Z",
  "１２３"
]

/**
 * A value of the wrong kind, or an awkward one of the right kind. Huge and deep values are described,
 * and built only when applied, so that a counterexample prints small.
 */
type Replacement =
  | { readonly _tag: "Value"; readonly value: Json }
  | { readonly _tag: "Huge"; readonly length: number }
  | { readonly _tag: "Deep"; readonly depth: number; readonly asArray: boolean }

const replacement: fc.Arbitrary<Replacement> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom<Json>(null, true, false, 0, -1, 0.5, -0, 1e308, -1e308, 2 ** 53 + 1, [], {}, ...oddStrings),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.array(fc.constantFrom<Json>(1, "a", null, {}), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.constantFrom<Json>(1, "a", null), { maxKeys: 4 })
    )
    .map((value) => ({ _tag: "Value" as const, value })),
  fc.integer({ min: 100_000, max: 2_000_000 }).map((length) => ({ _tag: "Huge" as const, length })),
  fc.record({
    _tag: fc.constant("Deep" as const),
    depth: fc.integer({ min: 1_000, max: 20_000 }),
    asArray: fc.boolean()
  })
)

const materialize = (r: Replacement): Json => {
  switch (r._tag) {
    case "Value":
      return structuredClone(r.value)
    case "Huge":
      return "A".repeat(r.length)
    case "Deep":
      return deep(r.depth, r.asArray ? "x" : 1, r.asArray)
  }
}

type Mutation =
  | { readonly _tag: "Replace"; readonly at: number; readonly value: Replacement }
  | { readonly _tag: "Delete"; readonly at: number }
  | { readonly _tag: "Add"; readonly at: number; readonly key: string; readonly value: Replacement }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("Replace" as const), at: fc.nat(), value: replacement }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("Delete" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      _tag: fc.constant("Add" as const),
      at: fc.nat(),
      key: fc.constantFrom("__proto__", "constructor", "toString", "extra", ""),
      value: replacement
    })
  }
)

/** Every path into a JSON value (objects and arrays), the root included; not into what a mutation nested deep. */
const paths = (value: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) => {
  out.push(prefix)
  if (prefix.length > 40) return out
  if (Array.isArray(value)) value.forEach((v, i) => void paths(v, [...prefix, i], out))
  else if (value !== null && typeof value === "object")
    for (const key of Object.keys(value)) paths(value[key]!, [...prefix, key], out)
  return out
}

const apply = (root: Json, m: Mutation): Json => {
  const all = paths(root)
  const path = all[m.at % all.length]!
  if (path.length === 0) return m._tag === "Replace" ? materialize(m.value) : root
  let parent: any = root
  for (const key of path.slice(0, -1)) parent = parent[key]
  const last = path[path.length - 1]!
  switch (m._tag) {
    case "Replace":
      parent[last] = materialize(m.value)
      break
    case "Delete":
      if (Array.isArray(parent)) parent.splice(last as number, 1)
      else delete parent[last]
      break
    case "Add":
      if (parent[last] !== null && typeof parent[last] === "object" && !Array.isArray(parent[last]))
        Object.defineProperty(parent[last], m.key, {
          value: materialize(m.value),
          enumerable: true,
          writable: true,
          configurable: true
        })
      break
  }
  return root
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })
const build = (base: Json, ms: ReadonlyArray<Mutation>): Json => ms.reduce(apply, structuredClone(base))

// ---------------------------------------------------------------------------------------------------
// The properties

/** Decodes the way the client does; a thrown exception would be a defect. */
const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): Either.Either<A, ParseResult.ParseIssue> => {
  try {
    return ParseResult.decodeUnknownEither(schema)(input)
  } catch (error) {
    throw new Error(`the decoder threw (a defect): ${String(error).slice(0, 300)}`)
  }
}

/** The one-line failure of a rejected input (formatting must not throw either). */
const failureLine = <A, I>(schema: Schema.Schema<A, I>, input: unknown): string | undefined => {
  const result = decode(schema, input)
  if (Either.isRight(result)) return undefined
  try {
    const failure = DecodeFailure.fromParseError(result.left)
    assert.isString(failure.path)
    return DecodeFailure.format(failure)
  } catch (error) {
    throw new Error(`formatting the parse issue threw (a defect): ${String(error).slice(0, 300)}`)
  }
}

const valid = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(schema)
  return Arbitrary.make(schema).map((a) => JSON.parse(JSON.stringify(encode(a))) as Json)
}

const page = (): Json => {
  const one = (realistic() as any).payment_intent
  return { payment_intents: [one, structuredClone(one), structuredClone(one)] }
}

/** Realistic responses, each with the decoder that reads it. */
const realisticCases: ReadonlyArray<readonly [string, () => Json, Schema.Schema<any, any>]> = [
  ["PaymentIntent.Envelope (the documented cancel response)", realistic, PaymentIntent.Envelope],
  ["PaymentIntent.ListEnvelope (a page of three)", page, PaymentIntent.ListEnvelope],
  ["PaymentIntent.Envelope (the docs' literal example)", () => fixture("seed-literal.json"), PaymentIntent.Envelope],
  ["PaymentIntent.Envelope (a generated response)", () => fixture("gen-c-response.json"), PaymentIntent.Envelope]
]

/** Every other decoder, from generated valid values. */
const generatedCases: ReadonlyArray<readonly [string, Schema.Schema<any, any>, number]> = [
  ["Customer", Customer.Customer, 100],
  ["ShippingAddress", ShippingAddress.ShippingAddress, 100],
  ["PaymentMethod", PaymentMethod.PaymentMethod, 100],
  ["Product", Product.Product, 100],
  ["Price", Price.Price, 100],
  ["SubscriptionItem", SubscriptionItem.SubscriptionItem, 60],
  ["Subscription", Subscription.Subscription, 40],
  ["Invoice", Invoice.Invoice, 30],
  ["PaymentIntent", PaymentIntent.PaymentIntent, 30],
  ["ErrorBody", ErrorBody.ErrorBody, 100]
]

const scalars: ReadonlyArray<Schema.Schema<any, any>> = [
  Ids.PaymentIntentId,
  Ids.CustomerId,
  Ids.InvoiceId,
  Ids.ChargeId,
  Money.Amount,
  Timestamps.Timestamp,
  Metadata.Metadata
]

describe("decoder fuzzing (fast-check): a value or a typed parse issue, never a defect", () => {
  for (const [name, base, schema] of realisticCases) {
    it(`${name} with 1–4 mutations`, () => {
      fc.assert(
        fc.property(mutations, (ms) => {
          decode(schema, build(base(), ms))
        }),
        { numRuns: 200 }
      )
    })
  }

  for (const [name, schema, numRuns] of generatedCases) {
    it(`${name}: generated valid values with 1–4 mutations`, () => {
      fc.assert(
        fc.property(valid(schema), mutations, (base, ms) => {
          decode(schema, build(base, ms))
        }),
        { numRuns }
      )
    })
  }

  it("the scalar decoders (IDs, amounts, timestamps, metadata) on anything at all", () => {
    fc.assert(
      fc.property(fc.oneof(replacement.map(materialize), fc.anything()), (input) => {
        for (const schema of scalars) decode(schema, input)
      }),
      { numRuns: 300 }
    )
  })

  it("unknown fields are ignored: a valid response with extra fields of any shape still decodes", () => {
    fc.assert(
      fc.property(fc.constantFrom("extra", "x_new_field"), replacement, (key, value) => {
        const input = realistic() as any
        input.payment_intent[key] = materialize(value)
        assert.isTrue(Either.isRight(decode(PaymentIntent.Envelope, input)))
      }),
      { numRuns: 50 }
    )
  })
})

/**
 * Every realistic and generated case, as one arbitrary of recipes (small, so a counterexample prints),
 * each made into (decoder, input) inside the property.
 */
type Case =
  | { readonly _tag: "Realistic"; readonly index: number; readonly ms: ReadonlyArray<Mutation> }
  | { readonly _tag: "Generated"; readonly index: number; readonly base: Json; readonly ms: ReadonlyArray<Mutation> }
  | { readonly _tag: "Scalar"; readonly index: number; readonly value: Replacement }

const anyCase: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ _tag: fc.constant("Realistic" as const), index: fc.nat(realisticCases.length - 1), ms: mutations }),
  fc.nat(generatedCases.length - 1).chain((index) =>
    fc.record({
      _tag: fc.constant("Generated" as const),
      index: fc.constant(index),
      base: valid(generatedCases[index]![1]),
      ms: mutations
    })
  ),
  fc.record({ _tag: fc.constant("Scalar" as const), index: fc.nat(scalars.length - 1), value: replacement })
)

const make = (c: Case): readonly [Schema.Schema<any, any>, Json] => {
  switch (c._tag) {
    case "Realistic":
      return [realisticCases[c.index]![2], build(realisticCases[c.index]![1](), c.ms)]
    case "Generated":
      return [generatedCases[c.index]![1], build(c.base, c.ms)]
    case "Scalar":
      return [scalars[c.index]!, materialize(c.value)]
  }
}

// Hundreds of generated inputs each, some thousands of levels deep: slow on a loaded 2-core CI machine.
describe("decoder fuzzing (fast-check): the one-line DecodeFailure made of a parse issue", { timeout: 120_000 }, () => {
  it("is made without throwing (a defect), whatever was rejected", () => {
    fc.assert(
      fc.property(anyCase, (c) => {
        const [schema, input] = make(c)
        failureLine(schema, input)
      }),
      { numRuns: 500 }
    )
  })

  it("never carries a secret of the input (the intent's client_secret)", () => {
    fc.assert(
      fc.property(mutations, (ms) => {
        let line: string | undefined
        try {
          line = failureLine(PaymentIntent.Envelope, build(realistic(), ms))
        } catch {
          return // a formatting defect: the test above reports it
        }
        for (const secret of secrets) assert.notInclude(line ?? "", secret)
      }),
      { numRuns: 300 }
    )
  })

  it('stays short whatever came in (DecodeFailure\'s promise: "values are truncated")', () => {
    fc.assert(
      fc.property(anyCase, (c) => {
        const [schema, input] = make(c)
        let line: string | undefined
        try {
          line = failureLine(schema, input)
        } catch {
          return // a formatting defect: reported above
        }
        assert.isAtMost(line?.length ?? 0, 1_000, `${line?.slice(0, 200)}…`)
      }),
      { numRuns: 300 }
    )
  })
})
