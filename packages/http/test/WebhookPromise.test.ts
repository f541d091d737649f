import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Vm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { Flex, WebhookError, webhooks } from "../src/PromiseClient.js"
import { cancelResponse } from "./support/fixtures.js"

// The promise face of webhook verification, written as an Express-style service without Effect would
// use it: the raw body as a Buffer, Node's req.headers, try/catch and instanceof.

const secretText = `whsec_${Buffer.from("promise-webhook-key-0123456789ab").toString("base64")}`
const body = JSON.stringify({
  event_id: "evt_promise_1",
  event_type: "payment_intent.succeeded",
  event_dt: 1_727_784_005,
  object: { payment_intent: cancelResponse().payment_intent }
})
const signed = (payload: string, timestamp = Math.floor(Date.now() / 1000), key = secretText) => ({
  "webhook-id": "msg_promise_1",
  "webhook-timestamp": String(timestamp),
  "webhook-signature": new StandardWebhook(key).sign("msg_promise_1", new Date(timestamp * 1000), payload)
})

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("Flex webhooks (the promise face)", () => {
  it("constructEvent resolves with the event in its wire form", async () => {
    const flex = new Flex({ apiKey: "fsk_test_webhooks" })
    try {
      const event = await flex.webhooks.constructEvent(body, signed(body), secretText)
      assert.strictEqual(event.event_type, "payment_intent.succeeded")
      assert.strictEqual(event.event_id, "evt_promise_1")
      const object = event.object as { payment_intent: { created_at: string; client_secret?: unknown } }
      // The wire form: timestamps as strings, as Flex sent them.
      assert.strictEqual(object.payment_intent.created_at, "2024-10-01T12:00:05Z")
      assert.strictEqual(flex.webhooks, webhooks)
    } finally {
      await flex.close()
    }
    // It makes no request, so a closed client still verifies.
    const closed = new Flex({ apiKey: "fsk_test_webhooks" })
    await closed.close()
    assert.strictEqual((await closed.webhooks.constructEvent(body, signed(body), secretText)).event_id, "evt_promise_1")
  })

  it("rejects with the WebhookError classes, catchable with instanceof", async () => {
    const tampered = await rejection(webhooks.constructEvent(`${body} `, signed(body), secretText))
    assert.instanceOf(tampered, WebhookError.SignatureMismatchError)
    assert.instanceOf(tampered, Error)
    const old = await rejection(
      webhooks.constructEvent(body, signed(body, Math.floor(Date.now() / 1000) - 600), secretText)
    )
    assert.instanceOf(old, WebhookError.TimestampToleranceError)
    const missing = await rejection(webhooks.constructEvent(body, {}, secretText))
    assert.instanceOf(missing, WebhookError.MissingHeaderError)
    const notEvent = await rejection(webhooks.constructEvent("[]", signed("[]"), secretText))
    assert.instanceOf(notEvent, WebhookError.InvalidPayloadError)
    const badSecret = await rejection(webhooks.constructEvent(body, signed(body), "whsec_%%%"))
    assert.instanceOf(badSecret, WebhookError.InvalidSecretError)
    assert.notInclude(String(badSecret), "%%%")
  })

  it("takes several secrets during a rotation, and a tolerance in milliseconds", async () => {
    const other = `whsec_${Buffer.from("some-other-key-0000000000000000").toString("base64")}`
    const event = await webhooks.constructEvent(body, signed(body), [other, secretText])
    assert.strictEqual(event.event_id, "evt_promise_1")
    const tenMinutesAgo = signed(body, Math.floor(Date.now() / 1000) - 600)
    await webhooks.constructEvent(body, tenMinutesAgo, secretText, { tolerance: 3_600_000 })
    assert.instanceOf(
      await rejection(webhooks.constructEvent(body, tenMinutesAgo, secretText, { tolerance: 300_000 })),
      WebhookError.TimestampToleranceError
    )
    assert.instanceOf(
      await rejection(webhooks.constructEvent(body, tenMinutesAgo, secretText, { tolerance: -1 })),
      TypeError
    )
  })

  it("an already parsed body, missing headers or a missing secret reject clearly, without a defect", async () => {
    const parsed = await rejection(webhooks.constructEvent(JSON.parse(body), signed(body), secretText))
    assert.instanceOf(parsed, TypeError)
    assert.include(String(parsed), "raw request body")
    const noHeaders = await rejection(webhooks.constructEvent(body, undefined as never, secretText))
    assert.instanceOf(noHeaders, WebhookError.MissingHeaderError)
    // process.env.FLEX_WEBHOOK_SECRET unset:
    const noSecret = await rejection(webhooks.constructEvent(body, signed(body), undefined as never))
    assert.instanceOf(noSecret, WebhookError.InvalidSecretError)
  })

  it("a Buffer from another realm (as Jest's environment hands over) is the raw body, not a parsed one", async () => {
    const foreign: Uint8Array = Vm.runInNewContext("(bytes) => Uint8Array.from(bytes)")(Buffer.from(body))
    assert.isFalse(foreign instanceof Uint8Array)
    const event = await webhooks.constructEvent(foreign, signed(body), secretText)
    assert.strictEqual(event.event_id, "evt_promise_1")
  })

  it("an ArrayBuffer (a Fetch request.arrayBuffer()) is a raw body", async () => {
    const request = new Request("http://127.0.0.1/webhooks", { method: "POST", body, headers: signed(body) })
    const event = await webhooks.constructEvent(await request.arrayBuffer(), request.headers, secretText)
    assert.strictEqual(event.event_id, "evt_promise_1")
  })

  it("in a plain node:http server: the raw Buffer and req.headers, over a real socket", async () => {
    const answers: Array<string> = []
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        webhooks.constructEvent(Buffer.concat(chunks), req.headers, secretText).then(
          (event) => {
            answers.push(event.event_type)
            res.writeHead(204).end()
          },
          (error: unknown) => {
            answers.push(error instanceof WebhookError.SignatureMismatchError ? "mismatch" : String(error))
            res.writeHead(400).end()
          }
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    try {
      const good = await fetch(url, { method: "POST", body, headers: signed(body) })
      const bad = await fetch(url, { method: "POST", body: body.replace("4999", "1"), headers: signed(body) })
      assert.deepStrictEqual([good.status, bad.status], [204, 400])
      assert.deepStrictEqual(answers, ["payment_intent.succeeded", "mismatch"])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
