import { describe, expectTypeOf, it } from "@effect/vitest"
import type { PaymentIntent } from "@flex/domain"
import type { Effect, Stream } from "effect"
import type * as FlexClient from "../src/FlexClient.js"
import type * as FlexError from "../src/FlexError.js"

type Api = FlexClient.Service["paymentIntents"]
type ErrorOf<F extends (...args: any) => any> = Effect.Effect.Error<ReturnType<F>>

// Checked by `tsc` (the package's `check`, which runs before its tests): each endpoint's error channel
// is exactly the union it can fail with.
describe("error channels", () => {
  it("cancel can fail with every client error", () => {
    expectTypeOf<ErrorOf<Api["cancel"]>>().toEqualTypeOf<
      | FlexError.AuthenticationError
      | FlexError.PermissionError
      | FlexError.NotFoundError
      | FlexError.InvalidRequestError
      | FlexError.ConflictError
      | FlexError.RateLimitError
      | FlexError.ServerError
      | FlexError.ConnectionError
      | FlexError.TimeoutError
      | FlexError.DecodeError
    >()
    expectTypeOf<Effect.Effect.Success<ReturnType<Api["cancel"]>>>().toEqualTypeOf<PaymentIntent.PaymentIntent>()
  })

  it("retrieve cannot fail with a conflict", () => {
    expectTypeOf<ErrorOf<Api["retrieve"]>>().toEqualTypeOf<
      | FlexError.AuthenticationError
      | FlexError.PermissionError
      | FlexError.NotFoundError
      | FlexError.InvalidRequestError
      | FlexError.RateLimitError
      | FlexError.ServerError
      | FlexError.ConnectionError
      | FlexError.TimeoutError
      | FlexError.DecodeError
    >()
  })

  it("list and listAll cannot fail with a conflict or not-found", () => {
    type ListErrors =
      | FlexError.AuthenticationError
      | FlexError.PermissionError
      | FlexError.InvalidRequestError
      | FlexError.RateLimitError
      | FlexError.ServerError
      | FlexError.ConnectionError
      | FlexError.TimeoutError
      | FlexError.DecodeError
    expectTypeOf<ErrorOf<Api["list"]>>().toEqualTypeOf<ListErrors>()
    expectTypeOf<Stream.Stream.Error<ReturnType<Api["listAll"]>>>().toEqualTypeOf<ListErrors>()
  })
})
