// After `changeset version`: the client's User-Agent carries @flex/http's version, kept in a source file
// (no JSON import at runtime); a test fails if the two ever disagree.
import { readFileSync, writeFileSync } from "node:fs"

const pkg = JSON.parse(readFileSync(new URL("../packages/http/package.json", import.meta.url), "utf8"))
const file = new URL("../packages/http/src/internal/version.ts", import.meta.url)
writeFileSync(file, `/** @internal */\nexport const version = ${JSON.stringify(pkg.version)}\n`)
console.log(`@flex/http user agent version: ${pkg.version}`)
