import { readdirSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import ts from "typescript"

// Every field of every entity carries a doc comment taken from Flex's docs (or saying that Flex does not
// document it): the comments are what an editor shows on hover, for teams that read the types only.
const sources = (dir: URL): ReadonlyArray<URL> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(new URL(`${entry.name}/`, dir))
      : entry.name.endsWith(".ts")
        ? [new URL(entry.name, dir)]
        : []
  )

/** The properties of `Schema.Struct({...})` literals and of `const …Fields = {...}` objects, without a JSDoc. */
const undocumented = (file: URL): ReadonlyArray<string> => {
  const text = readFileSync(file, "utf8")
  const source = ts.createSourceFile(file.pathname, text, ts.ScriptTarget.ES2022, true)
  const missing: Array<string> = []
  const check = (object: ts.ObjectLiteralExpression, owner: string) => {
    for (const property of object.properties) {
      if (!ts.isPropertyAssignment(property)) continue
      const docs = ts.getJSDocCommentsAndTags(property)
      if (docs.length === 0) missing.push(`${owner}.${property.name.getText(source)}`)
    }
  }
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      node.expression.getText(source) === "Schema.Struct" &&
      node.arguments[0] !== undefined &&
      ts.isObjectLiteralExpression(node.arguments[0])
    ) {
      check(
        node.arguments[0],
        `${file.pathname.split("/src/")[1]}:${source.getLineAndCharacterOfPosition(node.pos).line + 1}`
      )
    }
    if (
      ts.isVariableDeclaration(node) &&
      /[fF]ields$/.test(node.name.getText(source)) &&
      node.initializer !== undefined &&
      ts.isObjectLiteralExpression(node.initializer)
    ) {
      check(node.initializer, node.name.getText(source))
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return missing
}

describe("field docs", () => {
  it("every field of every entity schema has a doc comment", () => {
    const files = sources(new URL("../src/", import.meta.url))
    const missing = files.flatMap(undocumented)
    assert.deepStrictEqual(missing, [])
    // The walk found the entities: a refactor that hid them from it would make this test vacuous.
    assert.isAbove(files.length, 15)
  })
})
