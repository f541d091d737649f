/**
 * Case 1, decode: the realistic cancel response (`fixture.ts`) from its JSON text to a typed value.
 * `JSON.parse` alone is the floor; the other three are `JSON.parse` plus a full validation of the same
 * shape: `@flex/domain` exactly as `FlexClient` runs it (`ParseResult.decodeUnknownEither` of
 * `PaymentIntent.Envelope`, built once), zod 4 `safeParse` and valibot `safeParse` of the equivalent
 * schemas in `schemas/`. The validation step alone is measured too, to say where the time goes.
 */
import { PaymentIntent } from "@flex/domain"
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
  readonly zod_us: number
  readonly valibot_us: number
  /** The validation alone, on an already parsed value. */
  readonly only: { readonly domain_us: number; readonly zod_us: number; readonly valibot_us: number }
  readonly bytes: number
}

const decodeDomain = ParseResult.decodeUnknownEither(PaymentIntent.Envelope)

const check = () => {
  const parsed = JSON.parse(cancelResponse)
  const domain = decodeDomain(parsed)
  if (Either.isLeft(domain)) throw new Error(`@flex/domain rejects the fixture: ${String(domain.left)}`)
  const zod = ZodSchemas.Envelope.safeParse(parsed)
  if (!zod.success) throw new Error(`the zod schema rejects the fixture: ${zod.error.message}`)
  const valibot = v.safeParse(ValibotSchemas.Envelope, parsed)
  if (!valibot.success) throw new Error(`the valibot schema rejects the fixture: ${valibot.issues[0].message}`)
  // Same information out of all three: the nested timestamps became dates, the amounts stayed numbers.
  const invoice = zod.data.payment_intent.invoice
  if (typeof invoice !== "object" || invoice === null || !(invoice.period_end instanceof Date)) {
    throw new Error("the zod schema did not parse the invoice's timestamps")
  }
}

export const runDecodeBench = (options: MicroOptions): DecodeResult => {
  check()
  const parsed = JSON.parse(cancelResponse)
  const results = micro(
    [
      { name: "json_parse", fn: () => JSON.parse(cancelResponse) },
      { name: "domain", fn: () => decodeDomain(JSON.parse(cancelResponse)) },
      { name: "zod", fn: () => ZodSchemas.Envelope.safeParse(JSON.parse(cancelResponse)) },
      { name: "valibot", fn: () => v.safeParse(ValibotSchemas.Envelope, JSON.parse(cancelResponse)) },
      { name: "domain_only", fn: () => decodeDomain(parsed) },
      { name: "zod_only", fn: () => ZodSchemas.Envelope.safeParse(parsed) },
      { name: "valibot_only", fn: () => v.safeParse(ValibotSchemas.Envelope, parsed) }
    ],
    options
  )
  const us = (name: string) => results.find((r) => r.name === name)!.us
  return {
    json_parse_us: us("json_parse"),
    domain_us: us("domain"),
    zod_us: us("zod"),
    valibot_us: us("valibot"),
    only: { domain_us: us("domain_only"), zod_us: us("zod_only"), valibot_us: us("valibot_only") },
    bytes: Buffer.byteLength(cancelResponse)
  }
}
