// The CommonJS half of a library's build, run in the package directory after `tsc -b tsconfig.src.json`
// has emitted ESM and declarations to dist/esm (so project references and incremental builds stay tsc's).
//
// Effect 3 ships both formats and so do we, so a CommonJS service with `"module": "node16"` can `require`
// every @flex package on any supported Node (no require(esm), which needs Node 20.19+). Layout:
//
//   dist/esm/**/*.{js,d.ts}   ESM, from tsc (with a {"type":"module"} package.json)
//   dist/cjs/**/*.{js,d.ts}   CommonJS, with a {"type":"commonjs"} package.json: the same declarations
//                             read as CommonJS types, so each format gets types of its own format (attw)
//
// Each source file is transpiled on its own with TypeScript's CommonJS emit. That equals a whole-program
// emit because the sources compile under `verbatimModuleSyntax` and `isolatedModules` (type-only imports
// are marked, so nothing needs the checker to be elided). Source maps point at ../../src like tsc's.
//
// Usage: node ../../scripts/build-cjs.mjs [--bin NAME]...   (--bin writes dist/NAME.js, an ESM shim that
// runs dist/esm/NAME.js, so a package's `bin` path survives the layout)
import * as Fs from "node:fs"
import * as Path from "node:path"
import ts from "typescript"

const pkgDir = process.cwd()
const src = Path.join(pkgDir, "src")
const dist = Path.join(pkgDir, "dist")
const esm = Path.join(dist, "esm")
const cjs = Path.join(dist, "cjs")

const bins = []
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--bin") bins.push(process.argv[++i])
  else throw new Error(`build-cjs: unknown argument ${process.argv[i]}`)
}

if (!Fs.existsSync(Path.join(esm, "index.js"))) {
  throw new Error(`build-cjs: ${Path.relative(pkgDir, esm)}/index.js is missing: run tsc -b tsconfig.src.json first`)
}

// Anything else in dist is left over from an older layout (or a removed bin) and would be packed.
for (const entry of Fs.readdirSync(dist)) {
  if (entry === "esm" || entry === "cjs" || bins.some((bin) => entry === `${bin}.js`)) continue
  Fs.rmSync(Path.join(dist, entry), { recursive: true, force: true })
}
Fs.rmSync(cjs, { recursive: true, force: true })

const walk = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = Path.join(dir, entry.name)
    return entry.isDirectory() ? walk(full) : [full]
  })

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  // Namespace imports of CommonJS modules (Effect's cjs build included) stay plain `require` calls.
  esModuleInterop: false,
  verbatimModuleSyntax: false,
  isolatedModules: true,
  sourceMap: true
}

let files = 0
for (const file of walk(src)) {
  if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue
  const rel = Path.relative(src, file).replace(/\.ts$/, "")
  const outJs = Path.join(cjs, `${rel}.js`)
  const { outputText, sourceMapText, diagnostics } = ts.transpileModule(Fs.readFileSync(file, "utf8"), {
    compilerOptions,
    fileName: file,
    reportDiagnostics: true
  })
  if (diagnostics?.length) {
    throw new Error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})))
  }
  const map = JSON.parse(sourceMapText)
  map.file = Path.basename(outJs)
  map.sources = [Path.relative(Path.dirname(outJs), file).split(Path.sep).join("/")]
  delete map.sourceRoot
  Fs.mkdirSync(Path.dirname(outJs), { recursive: true })
  Fs.writeFileSync(outJs, outputText)
  Fs.writeFileSync(`${outJs}.map`, JSON.stringify(map))

  // The declarations tsc emitted, read as CommonJS types here: their imports resolve with the
  // `require` condition, so a CommonJS program sees CommonJS types of @flex/domain and effect too.
  for (const ext of [".d.ts", ".d.ts.map"]) {
    const from = Path.join(esm, `${rel}${ext}`)
    if (!Fs.existsSync(from)) throw new Error(`build-cjs: ${Path.relative(pkgDir, from)} is missing`)
    Fs.copyFileSync(from, Path.join(cjs, `${rel}${ext}`))
  }
  files++
}

Fs.writeFileSync(Path.join(cjs, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`)
Fs.writeFileSync(Path.join(esm, "package.json"), `${JSON.stringify({ type: "module" }, null, 2)}\n`)
for (const bin of bins) {
  const shim = Path.join(dist, `${bin}.js`)
  Fs.writeFileSync(shim, `#!/usr/bin/env node\nimport "./esm/${bin}.js"\n`)
  Fs.chmodSync(shim, 0o755)
}
console.log(`build-cjs: ${files} modules to ${Path.relative(pkgDir, cjs)}`)
