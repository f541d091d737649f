/**
 * A decode failure reduced to what a person needs: the field path and what was wrong with it.
 *
 * Effect's `ParseError` is a tree; for logs, stored outcomes and typed client errors the project wants
 * one line such as `payment_intent.invoice.status: Expected a known invoice status (…), got "pending"`.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"

/**
 * @category models
 * @since 0.1.0
 */
export interface DecodeFailure {
  /** The dotted path of the most specific failing field, e.g. `payment_intent.items[0].price`. */
  readonly path: string
  /** What was expected and what came instead (values are truncated). */
  readonly message: string
}

/**
 * Formats a path the way people write it: `a.b[0].c`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`),
    ""
  )

/**
 * The most specific issue of a parse error: among the issues Effect reports (a union reports one per
 * member), the one with the longest path points at the field that is really wrong.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromParseError = (error: ParseResult.ParseError | ParseResult.ParseIssue): DecodeFailure => {
  const issues = ParseResult.ArrayFormatter.formatIssueSync(ParseResult.isParseError(error) ? error.issue : error)
  const deepest = issues.reduce((best, issue) => (issue.path.length > best.path.length ? issue : best), issues[0]!)
  return { path: formatPath(deepest.path), message: deepest.message }
}

/**
 * One line: `path: message`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (failure: DecodeFailure): string =>
  failure.path === "" ? failure.message : `${failure.path}: ${failure.message}`
