import { readFileSync } from "node:fs"

/** The realistic cancel response in the full nested shape of Flex's docs (a copy of @flex/domain's fixture). */
export const cancelResponse = (): any =>
  JSON.parse(readFileSync(new URL("../fixtures/cancel-response.json", import.meta.url), "utf8"))

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/** A valid payment intent ID whose ULID ends in the given number (so tests can order them). */
export const intentId = (n: number): string => {
  let body = ""
  let rest = n
  for (let i = 0; i < 10; i++) {
    body = alphabet[rest % 32] + body
    rest = Math.floor(rest / 32)
  }
  return `fpi_01J9M9S346Q3D25V${body}`
}

/** A cancel-response envelope for the given ID and status. */
export const intentWith = (id: string, status = "canceled"): any => {
  const envelope = cancelResponse()
  envelope.payment_intent.payment_intent_id = id
  envelope.payment_intent.status = status
  return envelope
}
