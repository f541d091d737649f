/**
 * @since 0.1.0
 */

/**
 * The call log of the public API.
 *
 * @since 0.1.0
 */
export * as Call from "./Call.js"

/**
 * Fault profiles, per endpoint, with the presets `none`, `flaky` and `storm`.
 *
 * @since 0.1.0
 */
export * as FaultProfile from "./FaultProfile.js"

/**
 * The sandbox: `start`, `layer`, the `Sandbox` service and its handle.
 *
 * @since 0.1.0
 */
export * as Sandbox from "./Sandbox.js"
