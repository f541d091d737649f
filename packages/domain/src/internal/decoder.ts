/**
 * A decoder compiled from a schema's AST that answers valid input without Effect's general parser.
 *
 * Effect's `ParseResult` interprets every node through `Either`s, union bookkeeping and issue objects,
 * which is most of the cost of decoding a response that is valid (the common case). The function built
 * here walks the same AST with plain checks and returns the decoded value, or one of two markers:
 * `Reject` when Effect's decoder certainly fails on the input too, `Bail` when it cannot tell (a
 * transformation that answered with an `Effect`). Either marker sends the caller to Effect's decoder,
 * which then makes the error or the value, so an answer of this function is only ever a shortcut:
 *
 * - a value it returns is the value Effect's `decodeUnknownEither` returns for the same input (same
 *   objects built in the same key order; filters, transformations and declarations are the schema's own
 *   functions, called with the same arguments);
 * - `Reject` only where Effect's decoder fails, so that in a union the next member is tried exactly
 *   when Effect would try it.
 *
 * Nodes it does not model (and any node with parse options or a decoding fallback) are decoded by
 * Effect's decoder of that node, so the compiler covers any schema. Default parse options only.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

/** Effect's decoder fails on this input. */
export const Reject: unique symbol = Symbol.for("@flex/domain/Decoder/Reject")
/** Effect's decoder has to answer. */
export const Bail: unique symbol = Symbol.for("@flex/domain/Decoder/Bail")
export type Marker = typeof Reject | typeof Bail

export type Fast = (input: unknown) => unknown

/** A node whose decoded value is its input: only a test. */
interface Check {
  readonly _tag: "Check"
  readonly test: (u: unknown) => boolean
  /** Set for keywords and literals, so that a union of them becomes one test. */
  readonly simple?: Simple | undefined
}

/** A node that builds a value (or answers a marker). */
interface Build {
  readonly _tag: "Build"
  readonly run: Fast
}

type Node = Check | Build

interface Simple {
  readonly types: ReadonlySet<"string" | "number" | "boolean" | "undefined">
  readonly literals: ReadonlyArray<AST.LiteralValue>
}

const options = AST.defaultParseOption
const hasOwn = Object.prototype.hasOwnProperty

const check = (test: (u: unknown) => boolean, simple?: Simple): Check => ({ _tag: "Check", test, simple })
const build = (run: Fast): Build => ({ _tag: "Build", run })

const toRun = (node: Node): Fast => {
  if (node._tag === "Build") return node.run
  const test = node.test
  return (u) => (test(u) ? u : Reject)
}

// Effect builds every `Right` on one prototype and every `Left` on another: comparing prototypes is the
// cheap test. Were that to change, results would only stop being recognised and `Bail` to Effect's decoder.
const rightPrototype: unknown = Object.getPrototypeOf(Either.right(undefined))
const leftPrototype: unknown = Object.getPrototypeOf(Either.left(undefined))

/** The value of an `Either` a schema function answered, `Reject` for a `Left`, `Bail` for anything else. */
const fromResult = (result: unknown): unknown => {
  if (typeof result !== "object" || result === null) return Bail
  const prototype = Object.getPrototypeOf(result)
  return prototype === rightPrototype
    ? (result as Either.Right<unknown, unknown>).right
    : prototype === leftPrototype
      ? Reject
      : Bail
}

const affectsParsing = (ast: AST.AST): boolean =>
  Option.isSome(AST.getParseOptionsAnnotation(ast)) || Option.isSome(AST.getDecodingFallbackAnnotation(ast))

/**
 * True when Effect's union parser could pick this member by a literal-valued property (its "search
 * tree"), which changes the order members are tried in; such unions are left to Effect. A superset
 * of `ParseResult.getLiterals(…).length > 0`.
 */
const mayHaveLiteralKeys = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "Refinement":
      return mayHaveLiteralKeys(ast.from)
    case "Suspend":
      return mayHaveLiteralKeys(ast.f())
    case "Transformation":
      return mayHaveLiteralKeys(ast.from)
    case "Declaration":
      return Option.isSome(AST.getSurrogateAnnotation(ast))
    case "TypeLiteral":
      return ast.propertySignatures.some((ps) => !ps.isOptional && AST.isLiteral(AST.encodedAST(ps.type)))
    case "TupleType":
      return ast.elements.some((e) => !e.isOptional && AST.isLiteral(AST.encodedAST(e.type)))
    default:
      return false
  }
}

/** One test for a union of keywords and literals (all of which decode to their input). */
const simpleTest = ({ literals, types }: Simple): ((u: unknown) => boolean) => {
  // A Set finds by SameValueZero, which differs from the `===` of Effect's literal check only for NaN.
  const set = literals.some((l) => typeof l === "number" && Number.isNaN(l)) ? undefined : new Set(literals)
  const isLiteral =
    set === undefined
      ? (u: unknown) => literals.includes(u as AST.LiteralValue)
      : (u: unknown) => set.has(u as AST.LiteralValue)
  const string = types.has("string")
  const number = types.has("number")
  const boolean = types.has("boolean")
  const undef = types.has("undefined")
  if (types.size === 0) return isLiteral
  return (u) => {
    switch (typeof u) {
      case "string":
        return string || isLiteral(u)
      case "number":
        return number || isLiteral(u)
      case "boolean":
        return boolean || isLiteral(u)
      case "undefined":
        return undef
      default:
        return isLiteral(u)
    }
  }
}

const keyword = (type: "string" | "number" | "boolean" | "undefined"): Check => {
  const simple: Simple = { types: new Set([type]), literals: [] }
  return check(simpleTest(simple), simple)
}

/** Effect's own decoder for a node: the fallback for what is not modelled here. */
const effectNode = (ast: AST.AST): Build => {
  const decode = ParseResult.decodeUnknownEither(Schema.make(ast))
  return build((u) => {
    const result = decode(u)
    return result._tag === "Right" ? result.right : Reject
  })
}

/** Compiles the decoding side of `ast`. */
export const compile = (root: AST.AST): Fast => {
  const memo = new Map<AST.AST, Node>()

  const go = (ast: AST.AST): Node => {
    const known = memo.get(ast)
    if (known !== undefined) return known
    let node: Node
    if (ast._tag === "Suspend") {
      // Recursive schemas: the target is compiled on first use, and once.
      let target: Fast | undefined
      node = build((u) => {
        if (target === undefined) target = toRun(go(ast.f()))
        return target(u)
      })
    } else {
      node = affectsParsing(ast) ? effectNode(ast) : make(ast)
    }
    memo.set(ast, node)
    return node
  }

  const make = (ast: AST.AST): Node => {
    switch (ast._tag) {
      case "StringKeyword":
        return keyword("string")
      case "NumberKeyword":
        return keyword("number")
      case "BooleanKeyword":
        return keyword("boolean")
      case "UndefinedKeyword":
        return keyword("undefined")
      case "UnknownKeyword":
      case "AnyKeyword":
        return check(() => true)
      case "Literal": {
        const simple: Simple = { types: new Set(), literals: [ast.literal] }
        return check(simpleTest(simple), simple)
      }
      case "Refinement":
        return refinement(ast)
      case "Transformation":
        return transformation(ast)
      case "Declaration": {
        const parse = ast.decodeUnknown(...ast.typeParameters)
        return build((u) => fromResult(parse(u, options, ast)))
      }
      case "Union":
        return union(ast)
      case "TupleType":
        return array(ast)
      case "TypeLiteral":
        return typeLiteral(ast)
      default:
        return effectNode(ast)
    }
  }

  const refinement = (ast: AST.Refinement): Node => {
    const from = go(ast.from)
    const filter = ast.filter
    if (from._tag === "Check") {
      const test = from.test
      return check((u) => test(u) && Option.isNone(filter(u, options, ast)))
    }
    const run = from.run
    return build((u) => {
      const a = run(u)
      if (a === Reject || a === Bail) return a
      return Option.isNone(filter(a, options, ast)) ? a : Reject
    })
  }

  const transformation = (ast: AST.Transformation): Node => {
    if (ast.transformation._tag !== "FinalTransformation") return effectNode(ast)
    const from = toRun(go(ast.from))
    const to = toRun(go(ast.to))
    const decode = ast.transformation.decode
    return build((u) => {
      const a = from(u)
      if (a === Reject || a === Bail) return a
      const b = fromResult(decode(a, options, ast, u))
      if (b === Reject || b === Bail) return b
      return to(b)
    })
  }

  const union = (ast: AST.Union): Node => {
    if (ast.types.some(mayHaveLiteralKeys)) return effectNode(ast)
    // Effect tries the members in order and keeps the first success. A member nested in a union that
    // is tried the same way can be tried in its place; adjacent members that return their input
    // (keywords, literals, checks) can be tried as one.
    const members: Array<Node> = []
    const add = (member: AST.AST) => {
      if (member._tag === "Union" && !affectsParsing(member) && !member.types.some(mayHaveLiteralKeys)) {
        for (const inner of member.types) add(inner)
        return
      }
      const node = go(member)
      const last = members[members.length - 1]
      if (node._tag === "Check" && last !== undefined && last._tag === "Check") {
        members[members.length - 1] = mergeChecks(last, node)
      } else {
        members.push(node)
      }
    }
    for (const member of ast.types) add(member)
    if (members.length === 1) return members[0]!
    const runs = members.map(toRun)
    const n = runs.length
    return build((u) => {
      for (let i = 0; i < n; i++) {
        const result = runs[i]!(u)
        if (result !== Reject) return result
      }
      return Reject
    })
  }

  const array = (ast: AST.TupleType): Node => {
    // Only `Schema.Array(item)`; tuples go to Effect.
    if (ast.elements.length > 0 || ast.rest.length !== 1) return effectNode(ast)
    const item = go(ast.rest[0]!.type)
    if (item._tag === "Check") {
      const test = item.test
      return build((u) => {
        if (!Array.isArray(u)) return Reject
        const out: Array<unknown> = []
        for (let i = 0; i < u.length; i++) {
          const value = u[i]
          if (!test(value)) return Reject
          out.push(value)
        }
        return out
      })
    }
    const run = item.run
    return build((u) => {
      if (!Array.isArray(u)) return Reject
      const out: Array<unknown> = []
      for (let i = 0; i < u.length; i++) {
        const value = run(u[i])
        if (value === Reject || value === Bail) return value
        out.push(value)
      }
      return out
    })
  }

  const typeLiteral = (ast: AST.TypeLiteral): Node => {
    // `Schema.Struct({})` accepts any value but null and undefined, and returns it as is.
    if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) return check((u) => u != null)
    if (ast.indexSignatures.some((is) => is.parameter._tag !== "StringKeyword")) return effectNode(ast)
    const count = ast.propertySignatures.length
    const names = ast.propertySignatures.map((ps) => ps.name)
    const optional = ast.propertySignatures.map((ps) => ps.isOptional)
    const nodes = ast.propertySignatures.map((ps) => go(ps.type))
    const tests = nodes.map((node) => (node._tag === "Check" ? node.test : undefined))
    const runs = nodes.map((node) => (node._tag === "Build" ? node.run : undefined))
    const indexValues = ast.indexSignatures.map((is) => toRun(go(is.type)))
    // As Effect builds it: an index-signature key that is also a property is checked but not copied.
    const expected: Record<PropertyKey, null> = {}
    for (const name of names) expected[name] = null
    return build((u) => {
      if (typeof u !== "object" || u === null || Array.isArray(u)) return Reject
      const input = u as Record<PropertyKey, unknown>
      const out: Record<PropertyKey, unknown> = {}
      for (let i = 0; i < count; i++) {
        const name = names[i]!
        if (optional[i] && !hasOwn.call(input, name)) continue
        const value = input[name]
        const test = tests[i]
        if (test !== undefined) {
          if (!test(value)) return Reject
          out[name] = value
        } else {
          const result = runs[i]!(value)
          if (result === Reject || result === Bail) return result
          out[name] = result
        }
      }
      for (let j = 0; j < indexValues.length; j++) {
        const run = indexValues[j]!
        for (const key of Object.keys(input)) {
          const result = run(input[key])
          if (result === Reject || result === Bail) return result
          if (!hasOwn.call(expected, key)) out[key] = result
        }
      }
      return out
    })
  }

  return toRun(go(root))
}

const mergeChecks = (a: Check, b: Check): Check => {
  if (a.simple !== undefined && b.simple !== undefined) {
    const simple: Simple = {
      types: new Set([...a.simple.types, ...b.simple.types]),
      literals: [...a.simple.literals, ...b.simple.literals]
    }
    return check(simpleTest(simple), simple)
  }
  const first = a.test
  const second = b.test
  return check((u) => first(u) || second(u))
}
