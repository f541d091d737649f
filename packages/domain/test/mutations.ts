/**
 * What the decoder tests share: the realistic responses, generated valid values, and mutations of them
 * (wrong types, missing fields, huge strings, deep nesting, odd unicode, extreme numbers, added keys).
 */
import { readFileSync } from "node:fs"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import * as Customer from "../src/Customer.js"
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

export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

export const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as Json

/** The documented cancel response, with its secrets made recognisable. */
export const realistic = (): Json => {
  const envelope = fixture("cancel-response.json") as any
  envelope.payment_intent.client_secret = "fpi_secret_DOMAIN_CANARY_1"
  return envelope
}
export const secrets = ["DOMAIN_CANARY_1"]

// ---------------------------------------------------------------------------------------------------
// Mutations

export const deep = (depth: number, leaf: Json, asArray: boolean): Json => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value }
  return value
}

export const oddStrings = [
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
export type Replacement =
  | { readonly _tag: "Value"; readonly value: Json }
  | { readonly _tag: "Huge"; readonly length: number }
  | { readonly _tag: "Deep"; readonly depth: number; readonly asArray: boolean }

export const replacement: fc.Arbitrary<Replacement> = fc.oneof(
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

export const materialize = (r: Replacement): Json => {
  switch (r._tag) {
    case "Value":
      return structuredClone(r.value)
    case "Huge":
      return "A".repeat(r.length)
    case "Deep":
      return deep(r.depth, r.asArray ? "x" : 1, r.asArray)
  }
}

export type Mutation =
  | { readonly _tag: "Replace"; readonly at: number; readonly value: Replacement }
  | { readonly _tag: "Delete"; readonly at: number }
  | { readonly _tag: "Add"; readonly at: number; readonly key: string; readonly value: Replacement }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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
export const paths = (value: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) => {
  out.push(prefix)
  if (prefix.length > 40) return out
  if (Array.isArray(value)) value.forEach((v, i) => void paths(v, [...prefix, i], out))
  else if (value !== null && typeof value === "object")
    for (const key of Object.keys(value)) paths(value[key]!, [...prefix, key], out)
  return out
}

export const apply = (root: Json, m: Mutation): Json => {
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

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })
export const build = (base: Json, ms: ReadonlyArray<Mutation>): Json => ms.reduce(apply, structuredClone(base))

export const valid = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(schema)
  return Arbitrary.make(schema).map((a) => JSON.parse(JSON.stringify(encode(a))) as Json)
}

export const page = (): Json => {
  const one = (realistic() as any).payment_intent
  return { payment_intents: [one, structuredClone(one), structuredClone(one)] }
}

/** Realistic responses, each with the decoder that reads it. */
export const realisticCases: ReadonlyArray<readonly [string, () => Json, Schema.Schema<any, any>]> = [
  ["PaymentIntent.Envelope (the documented cancel response)", realistic, PaymentIntent.Envelope],
  ["PaymentIntent.ListEnvelope (a page of three)", page, PaymentIntent.ListEnvelope],
  ["PaymentIntent.Envelope (the docs' literal example)", () => fixture("seed-literal.json"), PaymentIntent.Envelope],
  ["PaymentIntent.Envelope (a generated response)", () => fixture("gen-c-response.json"), PaymentIntent.Envelope]
]

/** Every other decoder, from generated valid values. */
export const generatedCases: ReadonlyArray<readonly [string, Schema.Schema<any, any>, number]> = [
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

export const scalars: ReadonlyArray<Schema.Schema<any, any>> = [
  Ids.PaymentIntentId,
  Ids.CustomerId,
  Ids.InvoiceId,
  Ids.ChargeId,
  Money.Amount,
  Timestamps.Timestamp,
  Metadata.Metadata
]
