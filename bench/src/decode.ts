/**
 * Case 1, decode: the realistic cancel response (`fixture.ts`) from its JSON text to a typed value.
 * `JSON.parse` alone is the floor; the other rows are `JSON.parse` plus a full validation of the same
 * shape: `@flex/domain` exactly as `FlexClient` runs it (`Decoder.decodeUnknownEither` of
 * `PaymentIntent.Envelope`, built once), zod 4 `safeParse` and valibot `safeParse` of the equivalent
 * schemas in `schemas/`. A reference row, `domain_effect`, is the same schema through Effect's own
 * `ParseResult.decodeUnknownEither` (what `Decoder` answers like, and falls back to). The validation step
 * alone is measured too, to say where the time goes.
 *
 * Before timing, every decoder must accept the fixture and accept or reject each of its variants alike
 * (`variants`): otherwise the rows would not be measuring the same thing.
 */
import { Decoder, PaymentIntent } from "@flex/domain"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as v from "valibot"
import { cancelResponse } from "./fixture.js"
import * as ValibotSchemas from "./schemas/valibot.js"
import * as ZodSchemas from "./schemas/zod.js"
import { type MicroOptions, micro } from "./stats.js"

export interface DecodeResult {
  /** µs per operation, median of the rounds; every figure but `json_parse_us` includes the JSON.parse. */
  readonly json_parse_us: number
  readonly domain_us: number
  /** The same schema through Effect's `ParseResult.decodeUnknownEither`, without `Decoder`'s fast path. */
  readonly domain_effect_us: number
  readonly zod_us: number
  readonly valibot_us: number
  /** The validation alone, on an already parsed value. */
  readonly only: {
    readonly domain_us: number
    readonly domain_effect_us: number
    readonly zod_us: number
    readonly valibot_us: number
  }
  readonly bytes: number
  /** How many variants of the fixture every decoder accepted and rejected alike. */
  readonly variants: number
}

const decodeDomain = Decoder.decodeUnknownEither(PaymentIntent.Envelope)
const decodeEffect = ParseResult.decodeUnknownEither(PaymentIntent.Envelope)

const lowerCaseId = "fcus_01hacm7fz1084xb1gb6053vm0d"
const removed = Symbol("removed")

/**
 * Variants of the fixture: a path into the payment intent, the value put there (or `removed`), and
 * whether the shared rules accept the result.
 */
const variants: ReadonlyArray<readonly [name: string, accepted: boolean, path: string, value: unknown]> = [
  ["as is", true, "", undefined],
  ["a malformed ID", false, "payment_intent_id", "fpi_123"],
  ["an ID in lower case", true, "customer.customer_id", lowerCaseId],
  ["a negative amount", false, "amount", -1],
  ["a fractional amount", false, "invoice.total", 49.99],
  ["2024-02-30", false, "invoice.period_end", "2024-02-30T12:00:00Z"],
  ["a timestamp without a zone", false, "created_at", "2024-10-01T12:00:05"],
  ["an offset timestamp", true, "created_at", "2024-10-01T14:00:05.5+02:00"],
  ["an unknown status", false, "status", "requires_reauthorization"],
  ["an unknown nested status", false, "invoice.status", "pending"],
  ["a null reference", true, "customer", null],
  ["a reference as an ID", true, "invoice.subscription", "fsub_01J8ZQ6C2D4F6G8H0J2K4M6N8P"],
  ["an extra key", true, "invoice.x_new_field", { nested: [1, 2, 3] }],
  ["a new open-enum value", true, "invoice.subscription.items.0.price.product.hsa_fsa_eligibility", "x"],
  ["a missing required field", false, "test_mode", removed],
  ["a secret of the wrong type", false, "client_secret", 42]
]

const variantOf = (path: string, value: unknown): unknown => {
  const json = JSON.parse(cancelResponse)
  if (path === "") return json
  const keys = path.split(".")
  let parent = json.payment_intent
  for (const key of keys.slice(0, -1)) parent = parent[key]
  if (value === removed) delete parent[keys[keys.length - 1]!]
  else parent[keys[keys.length - 1]!] = value
  return json
}

const check = (): number => {
  for (const [name, accepted, path, value] of variants) {
    const parsed = variantOf(path, value)
    const answers = {
      "@flex/domain": Either.isRight(decodeDomain(parsed)),
      "@flex/domain (Effect's decoder)": Either.isRight(decodeEffect(parsed)),
      zod: ZodSchemas.Envelope.safeParse(parsed).success,
      valibot: v.safeParse(ValibotSchemas.Envelope, parsed).success
    }
    for (const [library, answer] of Object.entries(answers)) {
      if (answer !== accepted) {
        throw new Error(`${library} ${answer ? "accepts" : "rejects"} the fixture with ${name}`)
      }
    }
  }
  // Same information out of all three: the nested timestamps became dates, the amounts stayed numbers.
  const zod = ZodSchemas.Envelope.safeParse(JSON.parse(cancelResponse))
  const invoice = zod.success ? zod.data.payment_intent.invoice : undefined
  if (typeof invoice !== "object" || invoice === null || !(invoice.period_end instanceof Date)) {
    throw new Error("the zod schema did not parse the invoice's timestamps")
  }
  return variants.length
}

export const runDecodeBench = (options: MicroOptions): DecodeResult => {
  const checked = check()
  const parsed = JSON.parse(cancelResponse)
  const results = micro(
    [
      { name: "json_parse", fn: () => JSON.parse(cancelResponse) },
      { name: "domain", fn: () => decodeDomain(JSON.parse(cancelResponse)) },
      { name: "domain_effect", fn: () => decodeEffect(JSON.parse(cancelResponse)) },
      { name: "zod", fn: () => ZodSchemas.Envelope.safeParse(JSON.parse(cancelResponse)) },
      { name: "valibot", fn: () => v.safeParse(ValibotSchemas.Envelope, JSON.parse(cancelResponse)) },
      { name: "domain_only", fn: () => decodeDomain(parsed) },
      { name: "domain_effect_only", fn: () => decodeEffect(parsed) },
      { name: "zod_only", fn: () => ZodSchemas.Envelope.safeParse(parsed) },
      { name: "valibot_only", fn: () => v.safeParse(ValibotSchemas.Envelope, parsed) }
    ],
    options
  )
  const us = (name: string) => results.find((r) => r.name === name)!.us
  return {
    json_parse_us: us("json_parse"),
    domain_us: us("domain"),
    domain_effect_us: us("domain_effect"),
    zod_us: us("zod"),
    valibot_us: us("valibot"),
    only: {
      domain_us: us("domain_only"),
      domain_effect_us: us("domain_effect_only"),
      zod_us: us("zod_only"),
      valibot_us: us("valibot_only")
    },
    bytes: Buffer.byteLength(cancelResponse),
    variants: checked
  }
}
