// `pnpm test` (the root task `test:docs`): every TypeScript example a user reads is type-checked against
// the built packages, as Effect's docgen checks its examples.
//
// - every ```ts block of README.md and packages/*/README.md;
// - every JSDoc `@example` (a ```ts fence after the tag) in packages/*/src.
//
// Each example is a module of its own in a temp project whose node_modules link @flex/* to the built
// packages (their `exports`, dist/esm types) and Effect to the workspace's copy, compiled with strict
// settings (`module` nodenext, `strict`, `exactOptionalPropertyTypes`). An example that needs context
// declares it (`declare const flex: FlexClient.Service`), as docgen's do.
//
// Markers, an HTML comment on the line right before a README fence:
//   <!-- docs: skip: <reason> -->   not checked; the reason is required and printed
//   <!-- docs: run -->              also run (with tsx, 60 s at most): for examples against the sandbox
//
// Usage: node scripts/check-docs.mjs [--keep]   (--keep leaves the temp project for a look)
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("..", import.meta.url))
const libraries = ["domain", "http", "sandbox"]
const keep = process.argv.includes("--keep")
const rel = (file) => Path.relative(root, file)

/** @type {Array<{ id: string, source: string, line: number, code: string, run: boolean }>} */
const examples = []
const skipped = []
const problems = []
const failedExamples = new Set()

// --- README blocks ----------------------------------------------------------------------------------
const readmes = [Path.join(root, "README.md"), ...libraries.map((l) => Path.join(root, "packages", l, "README.md"))]
for (const file of readmes) {
  const lines = Fs.readFileSync(file, "utf8").split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++
    const marker = i > 0 ? /^<!--\s*docs:\s*(skip|run)\b:?\s*(.*?)\s*-->\s*$/.exec(lines[i - 1].trim()) : null
    const where = `${rel(file)}:${start}`
    if (marker?.[1] === "skip") {
      if (marker[2] === "") problems.push(`${where}: a skipped example needs a reason (<!-- docs: skip: why -->)`)
      skipped.push(`${where} (${marker[2]})`)
    } else {
      examples.push({
        id: `${rel(file).replace(/[^A-Za-z0-9]+/g, "_")}_${start}`,
        source: file,
        line: start,
        code: lines.slice(start, end).join("\n"),
        run: marker?.[1] === "run"
      })
    }
    i = end
  }
}

// --- JSDoc @example ---------------------------------------------------------------------------------
const walk = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(Path.join(dir, e.name)) : [Path.join(dir, e.name)]
  )
for (const library of libraries) {
  for (const file of walk(Path.join(root, "packages", library, "src")).filter((f) => f.endsWith(".ts"))) {
    const text = Fs.readFileSync(file, "utf8")
    for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
      const firstLine = text.slice(0, comment.index).split("\n").length - 1
      const lines = comment[0].split("\n").map((l) => l.replace(/^\s*\/?\*+\/?\s?/, ""))
      for (let i = 0; i < lines.length; i++) {
        if (!/^@example\b/.test(lines[i].trim())) continue
        let open = i + 1
        while (open < lines.length && lines[open].trim() === "") open++
        if (!/^```(ts|typescript)\s*$/.test(lines[open]?.trim() ?? "")) {
          problems.push(`${rel(file)}:${firstLine + i + 1}: an @example must be a \`\`\`ts fence`)
          continue
        }
        let close = open + 1
        while (close < lines.length && !/^```\s*$/.test(lines[close].trim())) close++
        examples.push({
          id: `${rel(file).replace(/[^A-Za-z0-9]+/g, "_")}_${firstLine + open + 2}`,
          source: file,
          line: firstLine + open + 1,
          code: lines.slice(open + 1, close).join("\n"),
          run: false
        })
        i = close
      }
    }
  }
}

// --- the temp project -------------------------------------------------------------------------------
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "flex-docs-"))
const cleanup = () => {
  if (!keep) Fs.rmSync(dir, { recursive: true, force: true })
}
process.on("exit", cleanup)

const nodeModules = Path.join(dir, "node_modules")
const link = (name, target) => {
  const at = Path.join(nodeModules, ...name.split("/"))
  Fs.mkdirSync(Path.dirname(at), { recursive: true })
  Fs.symlinkSync(target, at, "dir")
}
for (const library of libraries) {
  const dist = Path.join(root, "packages", library, "dist", "esm", "index.d.ts")
  if (!Fs.existsSync(dist)) {
    console.error(`check-docs: ${rel(dist)} is missing: build first (pnpm build)`)
    process.exit(1)
  }
  link(`@flex/${library}`, Path.join(root, "packages", library))
}
// What the examples may import besides @flex/*: the peers the READMEs install, the test tools, Node's types.
const thirdParty = ["effect", "@effect/platform", "@effect/platform-node", "@effect/vitest", "vitest", "@types/node"]
const lookIn = [root, ...libraries.map((l) => Path.join(root, "packages", l))].map((d) => Path.join(d, "node_modules"))
for (const name of thirdParty) {
  const found = lookIn
    .map((d) => Path.join(d, ...name.split("/")))
    .find((d) => Fs.existsSync(Path.join(d, "package.json")))
  if (!found) throw new Error(`check-docs: ${name} is not installed in the workspace`)
  link(name, Fs.realpathSync(found))
}
Fs.writeFileSync(Path.join(dir, "package.json"), `${JSON.stringify({ name: "flex-docs", type: "module" })}\n`)

const fileOf = (example) => Path.join(dir, `${example.id}.ts`)
for (const example of examples) Fs.writeFileSync(fileOf(example), `${example.code}\n`)

const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ["lib.es2022.d.ts"],
  types: ["node"],
  typeRoots: [Path.join(nodeModules, "@types")],
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  skipLibCheck: true
}
const started = performance.now()
const program = ts.createProgram(examples.map(fileOf), options)
const diagnostics = ts.getPreEmitDiagnostics(program)
const checkMs = performance.now() - started

const byFile = new Map(examples.map((e) => [Fs.realpathSync(fileOf(e)), e]))
for (const diagnostic of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")
  const example = diagnostic.file && byFile.get(Fs.realpathSync(diagnostic.file.fileName))
  if (!example || diagnostic.start === undefined) {
    problems.push(`${diagnostic.file ? diagnostic.file.fileName : "(global)"}: TS${diagnostic.code} ${message}`)
    continue
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  const code = example.code.split("\n")[line] ?? ""
  failedExamples.add(example.id)
  problems.push(
    `${rel(example.source)}:${example.line + line + 1}:${character + 1}: TS${diagnostic.code} ${message}\n      ${code.trim()}`
  )
}

// --- the runnable ones ------------------------------------------------------------------------------
// Examples that start a sandbox need nothing outside this machine, so they are run too: a script with
// tsx, one written as tests (it imports vitest or @effect/vitest) with vitest. Each within 60 s.
const imports = (example, name) => new RegExp(`from "${name}(/[^"]*)?"`).test(example.code)
const isTest = (example) => imports(example, "vitest") || imports(example, "@effect/vitest")
const runnable = examples.filter((e) => e.run || (imports(e, "@flex/sandbox") && !isTest(e)))
const tests = examples.filter((e) => isTest(e) && (e.run || imports(e, "@flex/sandbox")))
let ran = 0
const runStarted = performance.now()
if (problems.length === 0) {
  const failedRun = (example, result) => {
    failedExamples.add(example.id)
    const why = result.error ? result.error.message : `exited ${result.status ?? result.signal}`
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n")
    problems.push(`${rel(example.source)}:${example.line}: the example ${why}\n${output}`)
  }
  const tsx = Path.join(root, "node_modules", ".bin", "tsx")
  for (const example of runnable) {
    const result = spawnSync(tsx, [fileOf(example)], { cwd: dir, encoding: "utf8", timeout: 60_000 })
    if (result.status !== 0) failedRun(example, result)
    ran++
  }
  if (tests.length > 0) {
    for (const example of tests) Fs.copyFileSync(fileOf(example), Path.join(dir, `${example.id}.test.ts`))
    const vitest = Path.join(nodeModules, "vitest", "vitest.mjs")
    const files = tests.map((e) => `${e.id}.test.ts`)
    const result = spawnSync(process.execPath, [vitest, "run", "--root", dir, ...files], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, CI: "true" }
    })
    if (result.status !== 0) {
      // vitest names the failing file; attribute the failure to each example whose file it names.
      const output = `${result.stdout}${result.stderr}`
      const named = tests.filter((e) => output.includes(`${e.id}.test.ts`) && /FAIL/.test(output))
      for (const example of named.length > 0 ? named : tests) failedRun(example, result)
    }
    ran += tests.length
  }
}
const runMs = performance.now() - runStarted

for (const s of skipped) console.log(`check-docs: skipped ${s}`)
if (keep) console.log(`check-docs: kept ${dir}`)
if (problems.length > 0) {
  console.error(`check-docs: ${problems.length} problem(s) in ${examples.length} examples\n`)
  console.error(problems.map((p) => `  ${p}`).join("\n"))
  console.error(
    `\ncheck-docs: ${examples.length - failedExamples.size} passed, ${Math.max(1, failedExamples.size)} failed`
  )
  process.exit(1)
}
console.log(
  `check-docs: ${examples.length} examples type-checked in ${(checkMs / 1000).toFixed(1)} s (${examples.filter((e) => e.source.endsWith(".md")).length} from READMEs, ${examples.filter((e) => !e.source.endsWith(".md")).length} JSDoc @example), ${ran} run against the sandbox in ${(runMs / 1000).toFixed(1)} s, ${skipped.length} skipped`
)
