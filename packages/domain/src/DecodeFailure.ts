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
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  const text = path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`
    // Keys can come from the input (a metadata key, say): keep each one short.
    const name = String(key).length > 60 ? `${String(key).slice(0, 57)}...` : String(key)
    return out === "" ? name : `${out}.${name}`
  }, "")
  return text.length > maxLength ? `...${text.slice(text.length - (maxLength - 3))}` : text
}

const maxLength = 300

const truncate = (message: string): string =>
  message.length > maxLength ? `${message.slice(0, maxLength - 3)}...` : message

/**
 * The most specific issue of a parse error: among the issues Effect reports (a union reports one per
 * member), the one with the longest path points at the field that is really wrong. Path and message are
 * cut to 300 characters each.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromParseError = (error: ParseResult.ParseError | ParseResult.ParseIssue): DecodeFailure => {
  const issue = ParseResult.isParseError(error) ? error.issue : error
  try {
    const issues = ParseResult.ArrayFormatter.formatIssueSync(issue)
    const deepest = issues.reduce((best, i) => (i.path.length > best.path.length ? i : best), issues[0]!)
    return { path: formatPath(deepest.path), message: truncate(deepest.message) }
  } catch {
    // Effect's formatter describes the offending value by recursing into it: a value nested thousands of
    // levels deep overflows the stack. The path is still known; the value is not described.
    return { path: formatPath(deepestPath(issue)), message: "Expected another value (too deeply nested to show)" }
  }
}

/** The longest path in an issue tree, walked without recursion. */
const deepestPath = (root: ParseResult.ParseIssue): ReadonlyArray<PropertyKey> => {
  let best: ReadonlyArray<PropertyKey> = []
  const stack: Array<readonly [ParseResult.ParseIssue, ReadonlyArray<PropertyKey>]> = [[root, []]]
  while (stack.length > 0) {
    const [issue, path] = stack.pop()!
    if (path.length > best.length) best = path
    switch (issue._tag) {
      case "Pointer": {
        const keys: ReadonlyArray<PropertyKey> = Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey]
        stack.push([issue.issue, [...path, ...keys]])
        break
      }
      case "Composite":
        for (const child of Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]) {
          stack.push([child, path])
        }
        break
      case "Refinement":
      case "Transformation":
        stack.push([issue.issue, path])
        break
    }
  }
  return best
}

/**
 * One line: `path: message`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (failure: DecodeFailure): string =>
  failure.path === "" ? failure.message : `${failure.path}: ${failure.message}`
