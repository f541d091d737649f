/**
 * @since 0.1.0
 */

/**
 * The Flex API client service.
 *
 * @since 0.1.0
 */
export * as FlexClient from "./FlexClient.js"

/**
 * The client's errors.
 *
 * @since 0.1.0
 */
export * as FlexError from "./FlexError.js"

/**
 * When and how long to wait before a retry.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Receiving Flex webhooks with `@effect/platform`'s HTTP server.
 *
 * @since 0.1.0
 */
export * as WebhookReceiver from "./WebhookReceiver.js"
