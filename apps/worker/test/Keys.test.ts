/**
 * The worker computes execution ids and cancel idempotency keys with `node:crypto` (CancelWorkflow):
 * they must be exactly what `@effect/workflow` computes, or stores made before would resume under other
 * ids and send other keys.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Activity from "@effect/workflow/Activity"
import { WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import { Effect } from "effect"
import * as CancelRequest from "../src/core/CancelRequest.js"
import * as CancelWorkflow from "../src/flow/CancelWorkflow.js"

describe("execution ids and idempotency keys", () => {
  it.effect("are the library's, for fresh, retried and odd requests", () =>
    Effect.gen(function* () {
      const requests = [
        CancelRequest.make("fpi_01J9M9S346Q3D25VT4F5V37E3S", undefined),
        { ...CancelRequest.make("fpi_01J9M9S346Q3D25VT4F5V37E3S", "duplicate"), generation: 3 },
        { requestId: "req-é-🙂/x", paymentIntentId: "fpi_x", generation: 0 }
      ]
      for (const request of requests) {
        const id = yield* CancelWorkflow.CancelPaymentIntent.executionId(request)
        assert.strictEqual(CancelWorkflow.executionId(request), id)
        const key = yield* Activity.idempotencyKey("CancelIntent").pipe(
          Effect.provideService(WorkflowInstance, WorkflowInstance.initial(CancelWorkflow.CancelPaymentIntent, id))
        )
        assert.strictEqual(CancelWorkflow.cancelKeyOf(id), key)
      }
    })
  )
})
