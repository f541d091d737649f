// `pnpm test:release`: the release path, end to end, as another team meets it.
//
//  1. Starts verdaccio (6.8.0, installed into a temp dir with node-fetch pinned to 2.7.0: 6.10 wants
//     Node 22) on 127.0.0.1 with its storage in a temp dir. `@flex/*` is served only from that storage;
//     everything else (`effect` and friends) comes through its uplink to the ordinary npm registry.
//  2. In a copy of the working tree (tracked and untracked files, .gitignore respected; the checkout
//     itself is never written to), runs the project's own release commands against it:
//     `pnpm version-packages` then `pnpm release` (turbo build + `changeset publish`), with the registry
//     and a throwaway token in the copy's .npmrc. Checks the versions changesets chose and the ranges
//     the published manifests carry.
//  3. In a fresh project with plain npm (no workspace, no tarball paths) installs the packages by
//     version with exactly each package README's install line, then type-checks (tsc) and runs
//     (a) an ESM program using the Effect API against the sandbox, (b) a CommonJS program
//     (`"module": "node16"`, compiled to `require`), and (c) a program that imports nothing from Effect,
//     through the Promise entry `@flex/http/promise`.
//  4. Releases a changeset bump of @flex/domain alone, upgrades the consumer's @flex/domain, and asserts
//     one copy of it in the tree (`npm ls`) and that the programs still type-check and run.
//
// It prints the install and type-check times, ends with "N passed, M failed", is bounded in time
// (FLEX_RELEASE_TEST_TIMEOUT seconds, default 900) and removes its processes and temp dirs on every exit
// (FLEX_RELEASE_TEST_KEEP=1 keeps the temp dir for a look).
import { spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const rootPkg = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8"))
const pnpmSpec = rootPkg.packageManager // pnpm@10.x.y, the version the repository is developed with
const verdaccioVersion = "6.8.0"
const uplink = process.env.FLEX_RELEASE_TEST_UPLINK ?? "https://registry.npmjs.org/"
const libraries = ["domain", "http", "sandbox"]
const keep = process.env.FLEX_RELEASE_TEST_KEEP === "1"
const budgetMs = Number(process.env.FLEX_RELEASE_TEST_TIMEOUT ?? 900) * 1000
const deadline = Date.now() + budgetMs

const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "flex-release-"))
const logFile = Path.join(work, "release-test.log")
const children = new Set()
const results = []
const timings = []

// --- processes: every child in its own process group, killed as a group on timeout and at exit -----
const killGroup = (child, signal = "SIGTERM") => {
  try {
    process.kill(-child.pid, signal)
  } catch {}
}

let cleanedUp = false
const cleanup = () => {
  if (cleanedUp) return
  cleanedUp = true
  for (const child of children) killGroup(child, "SIGKILL")
  if (keep) console.log(`release-test: kept ${work}`)
  else Fs.rmSync(work, { recursive: true, force: true })
}
process.on("exit", cleanup)
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`release-test: ${signal}, stopping`)
    cleanup()
    process.exit(130)
  })
}
const watchdog = setTimeout(() => {
  console.error(`release-test: over its ${budgetMs / 1000} s budget, stopping`)
  finish(1)
}, budgetMs)
watchdog.unref()

// A clean environment: nothing pnpm or npm injected into this process (npm_config_*, npm_package_*)
// leaks into the commands below, which get their registry from their own .npmrc.
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|PNPM_|INIT_CWD$|TURBO_)/i.test(key))
)

const tail = (text, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n")

const run = (command, args, { cwd, env = {}, timeoutMs = 5 * 60_000 } = {}) =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const line = `$ (cd ${Path.relative(work, cwd) || "."}) ${command} ${args.join(" ")}`
    Fs.appendFileSync(logFile, `\n${line}\n`)
    const child = spawn(command, args, {
      cwd,
      env: { ...baseEnv, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let output = ""
    const collect = (chunk) => {
      output += chunk
      Fs.appendFileSync(logFile, chunk)
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    let timedOut = false
    const timer = setTimeout(
      () => {
        timedOut = true
        killGroup(child, "SIGKILL")
      },
      Math.max(1000, Math.min(timeoutMs, deadline - Date.now()))
    )
    child.on("error", (error) => {
      clearTimeout(timer)
      children.delete(child)
      reject(new Error(`${line}: ${error.message}`))
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const ms = performance.now() - started
      if (code === 0) resolve({ output, ms })
      else {
        const why = timedOut ? `timed out after ${Math.round(ms / 1000)} s` : `exited ${code ?? signal}`
        reject(new Error(`${line}\n${why}:\n${tail(output)}`))
      }
    })
  })

const pnpm = (args, options) => run("npx", ["-y", pnpmSpec, ...args], options)
const npm = (args, options) => run("npm", args, options)

let failed = false
const step = async (name, body) => {
  const started = performance.now()
  try {
    const note = await body()
    const ms = performance.now() - started
    results.push({ name, ok: true })
    console.log(`ok      ${name} (${(ms / 1000).toFixed(1)} s)${note ? `: ${note}` : ""}`)
  } catch (error) {
    results.push({ name, ok: false })
    failed = true
    console.log(`FAILED  ${name}\n${String(error?.message ?? error).replace(/^/gm, "        ")}`)
    throw error
  }
}
const pending = (name, why) => {
  results.push({ name, pending: true })
  console.log(`PENDING ${name}: ${why}`)
}
const time = (label, ms) => timings.push([label, ms])
const assert = (condition, message) => {
  if (!condition) throw new Error(message)
}

const finish = (code) => {
  const passed = results.filter((r) => r.ok).length
  const failures = results.filter((r) => r.ok === false).length
  const pendings = results.filter((r) => r.pending).length
  if (timings.length > 0) {
    console.log("\nmeasured (this machine):")
    for (const [label, ms] of timings) console.log(`  ${label.padEnd(58)} ${(ms / 1000).toFixed(1).padStart(6)} s`)
  }
  if (code !== 0 && !keep) console.log(`(the full log was ${logFile}; FLEX_RELEASE_TEST_KEEP=1 keeps it)`)
  console.log(`\nrelease-test: ${passed} passed, ${failures + (code !== 0 && failures === 0 ? 1 : 0)} failed`)
  if (pendings > 0) console.log(`release-test: ${pendings} pending (see PENDING above)`)
  cleanup()
  process.exit(code)
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const readJson = (file) => JSON.parse(Fs.readFileSync(file, "utf8"))
const writeFile = (file, text) => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  Fs.writeFileSync(file, text)
}
const json = (value) => `${JSON.stringify(value, null, 2)}\n`

// The install line of a package's README: the first `npm install` line naming an @flex package.
const readmeInstallLine = (library) => {
  const readme = Fs.readFileSync(Path.join(root, "packages", library, "README.md"), "utf8")
  const line = readme.split("\n").find((l) => /^npm install .*@flex\//.test(l.trim()))
  assert(line, `packages/${library}/README.md has no \`npm install … @flex/…\` line`)
  return line.trim()
}

// --- 1. the registry --------------------------------------------------------------------------------
const repo = Path.join(work, "repo")
const consumer = Path.join(work, "consumer")
let registry = ""
let token = ""

const startRegistry = async () => {
  const dir = Path.join(work, "verdaccio")
  writeFile(
    Path.join(dir, "package.json"),
    json({
      private: true,
      dependencies: { verdaccio: verdaccioVersion },
      // verdaccio 6.8 resolves node-fetch to a 3.x that fails to install here; 2.7.0 is what it was built on.
      overrides: { "node-fetch": "2.7.0" }
    })
  )
  const install = await npm(["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir })
  time(`install verdaccio ${verdaccioVersion} (npm, temp dir)`, install.ms)

  const port = await freePort()
  registry = `http://127.0.0.1:${port}/`
  writeFile(
    Path.join(dir, "config.yaml"),
    [
      `storage: ${Path.join(work, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${Path.join(work, "htpasswd")}`,
      "uplinks:",
      "  npmjs:",
      `    url: ${uplink}`,
      "    timeout: 60s",
      "packages:",
      // Ours come from this registry's storage only: never the uplink, so a same-named package on npm
      // cannot stand in for an unpublished one.
      "  '@flex/*':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "    proxy: npmjs",
      "middlewares:",
      "  audit:",
      "    enabled: false",
      "log: { type: stdout, format: pretty, level: warn }",
      ""
    ].join("\n")
  )
  const child = spawn(
    process.execPath,
    [
      Path.join(dir, "node_modules/verdaccio/bin/verdaccio"),
      "--config",
      Path.join(dir, "config.yaml"),
      "--listen",
      `127.0.0.1:${port}`
    ],
    { cwd: dir, env: baseEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] }
  )
  children.add(child)
  const log = Fs.createWriteStream(Path.join(work, "verdaccio.log"))
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  child.on("exit", () => children.delete(child))

  const started = performance.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited ${child.exitCode}; see ${work}/verdaccio.log`)
    try {
      const response = await fetch(`${registry}-/ping`)
      if (response.ok) break
    } catch {}
    if (performance.now() - started > 30_000) throw new Error("verdaccio did not answer /-/ping within 30 s")
    await new Promise((r) => setTimeout(r, 200))
  }
  // A throwaway user for this run (the htpasswd file is in the temp dir).
  const response = await fetch(`${registry}-/user/org.couchdb.user:release-test`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "release-test", password: "release-test-password", type: "user", roles: [] })
  })
  const body = await response.text()
  assert(response.ok, `verdaccio refused the test user: ${response.status} ${body}`)
  token = JSON.parse(body).token
  assert(typeof token === "string" && token.length > 0, "verdaccio gave no token")
  return `${registry} (storage ${Path.relative(work, Path.join(work, "storage"))}/, uplink ${uplink})`
}

// The registry in a project .npmrc of the temp dir, never in ~/.npmrc.
const npmrc = (withToken) =>
  [`registry=${registry}`, ...(withToken ? [`//${new URL(registry).host}/:_authToken=${token}`] : []), ""].join("\n")
// changesets asks `npm info` with npm_config_registry (else the public registry) whether a version is
// already published, so the release commands get it in the environment too.
const registryEnv = () => ({ npm_config_registry: registry })

// --- 2. the release ---------------------------------------------------------------------------------
const copyRepo = () => {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024
  })
  assert(listed.status === 0, `git ls-files failed: ${listed.stderr}`)
  let files = 0
  for (const file of listed.stdout.split("\0")) {
    if (file === "") continue
    const from = Path.join(root, file)
    if (!Fs.existsSync(from)) continue // deleted in the working tree
    const to = Path.join(repo, file)
    Fs.mkdirSync(Path.dirname(to), { recursive: true })
    Fs.copyFileSync(from, to)
    Fs.chmodSync(to, Fs.statSync(from).mode)
    files++
  }
  writeFile(Path.join(repo, ".npmrc"), npmrc(true))
  // changesets tags what it publishes: the copy is a repository of its own.
  const git = (...args) => {
    const r = spawnSync("git", args, { cwd: repo, encoding: "utf8", env: baseEnv })
    assert(r.status === 0, `git ${args.join(" ")}: ${r.stderr}`)
  }
  git("init", "-q", "-b", "main")
  git("add", "-A")
  git("-c", "user.name=release-test", "-c", "user.email=release-test@localhost", "commit", "-q", "-m", "snapshot")
  return files
}

const versions = () =>
  Object.fromEntries(libraries.map((l) => [l, readJson(Path.join(repo, "packages", l, "package.json")).version]))

const published = async (name) => {
  const response = await fetch(`${registry}${name.replace("/", "%2f")}`)
  if (response.status === 404) return { versions: {} }
  assert(response.ok, `GET ${name} from the registry: ${response.status}`)
  return response.json()
}

// --- 3. the consumer --------------------------------------------------------------------------------
const consumerTsconfig = (outDir) => ({
  compilerOptions: {
    target: "ES2022",
    module: "node16",
    moduleResolution: "node16",
    strict: true,
    exactOptionalPropertyTypes: true,
    // As `tsc --init` sets it: @effect/platform-node's own declarations need @types/ws otherwise.
    skipLibCheck: true,
    types: ["node"],
    outDir,
    rootDir: "."
  },
  include: ["*.ts"]
})

// (a) ESM, the Effect API: the sandbox, a FlexClient on it, a cancel, a typed refusal, the domain's rules.
const esmProgram = `import { NodeHttpClient } from "@effect/platform-node"
import { PaymentIntentStatus } from "@flex/domain"
import { FlexClient } from "@flex/http"
import { Sandbox } from "@flex/sandbox"
import { Effect, Layer, Option, Redacted } from "effect"

const program = Effect.gen(function* () {
  const sandbox = yield* Sandbox.start({ seed: 7, intents: 5 })
  const [hold] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
  const FlexLive = FlexClient.layer({ apiKey: Redacted.make(sandbox.apiKey), baseUrl: sandbox.url }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )
  const { intent, again } = yield* Effect.gen(function* () {
    const flex = yield* FlexClient.FlexClient
    const intent = yield* flex.paymentIntents.cancel(hold.payment_intent_id, { idempotencyKey: "release-test-1" })
    const again = yield* Effect.flip(flex.paymentIntents.cancel(hold.payment_intent_id))
    return { intent, again }
  }).pipe(Effect.provide(FlexLive))
  const released = Option.getOrThrow(yield* sandbox.released(hold.payment_intent_id))
  const verdict = PaymentIntentStatus.cancelability(intent.status)
  if (intent.status !== "canceled" || released !== 5000 || verdict._tag !== "AlreadyCanceled") {
    throw new Error(\`unexpected: \${intent.status} \${released} \${verdict._tag}\`)
  }
  if (again._tag !== "InvalidRequestError") throw new Error(\`second cancel: \${again._tag}\`)
  return { format: "esm", status: intent.status, released, second: again._tag }
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
`

// (b) CommonJS with "module": "node16": the imports compile to require() and resolve to dist/cjs.
const cjsProgram = `import { FetchHttpClient } from "@effect/platform"
import { FlexClient } from "@flex/http"
import { Sandbox } from "@flex/sandbox"
import { Effect, Layer, Option, Redacted } from "effect"

const program = Effect.gen(function* () {
  const sandbox = yield* Sandbox.start({ seed: 7, intents: 5 })
  const [hold] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 2500 }])
  const FlexLive = FlexClient.layer({ apiKey: Redacted.make(sandbox.apiKey), baseUrl: sandbox.url }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )
  const intent = yield* Effect.provide(
    Effect.flatMap(FlexClient.FlexClient, (flex) => flex.paymentIntents.cancel(hold.payment_intent_id)),
    FlexLive
  )
  const released = Option.getOrThrow(yield* sandbox.released(hold.payment_intent_id))
  if (intent.status !== "canceled" || released !== 2500) throw new Error(\`unexpected: \${intent.status} \${released}\`)
  return { format: "cjs", status: intent.status, released, resolved: require.resolve("@flex/http") }
}).pipe(Effect.scoped)

if (typeof module === "undefined" || typeof require !== "function") throw new Error("not CommonJS")
Effect.runPromise(program).then(
  (result) => {
    if (!/[\\\\/]dist[\\\\/]cjs[\\\\/]index\\.js$/.test(result.resolved)) throw new Error(\`resolved \${result.resolved}\`)
    console.log(JSON.stringify(result))
  },
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
`

// (c) No Effect: the Promise client on the plain async sandbox; errors are the FlexError classes.
const promiseProgram = `import { Flex, FlexError } from "@flex/http/promise"
import { startSandbox } from "@flex/sandbox"

const sandbox = await startSandbox({ seed: 7, intents: 5 })
const flex = new Flex(sandbox.clientOptions)
try {
  const [hold] = await sandbox.createIntents([{ status: "requires_capture", amount: 7500 }])
  const intent = await flex.paymentIntents.cancel(hold.payment_intent_id, { idempotencyKey: "release-test-promise" })
  if (intent.status !== "canceled") throw new Error(\`status \${intent.status}\`)
  let missing: unknown
  try {
    await flex.paymentIntents.retrieve("fpi_01J9ZZZZZZZZZZZZZZZZZZZZZZ")
  } catch (error) {
    missing = error
  }
  if (!(missing instanceof FlexError.NotFoundError) || missing.status !== 404) throw new Error(\`404 as \${missing}\`)
  let listed = 0
  for await (const page of flex.paymentIntents.listAll({ limit: 2 })) if (page.payment_intent_id) listed++
  const released = await sandbox.released(hold.payment_intent_id)
  if (released !== 7500 || listed < 6) throw new Error(\`released \${released}, listed \${listed}\`)
  console.log(JSON.stringify({ format: "promise", status: intent.status, released, listed, notFound: missing.status }))
} finally {
  await flex.close()
  await sandbox.close()
}
`

const programs = [
  ["esm", esmProgram, "module"],
  ["cjs", cjsProgram, "commonjs"],
  ["promise", promiseProgram, "module"]
]

const consumerPrograms = async (label, dirs) => {
  const notes = []
  for (const dir of dirs) {
    const expect = `"format":"${dir}"`
    const check = await run(Path.join(consumer, "node_modules/.bin/tsc"), ["-p", dir], { cwd: consumer })
    time(`${label}: consumer type-check + emit, ${dir} (tsc -p ${dir})`, check.ms)
    if (dir === "cjs") {
      const emitted = Fs.readFileSync(Path.join(consumer, "cjs/out/main.js"), "utf8")
      assert(emitted.includes('require("@flex/http")'), "the CommonJS program was not compiled to require()")
    }
    const ran = await run(process.execPath, [`${dir}/out/main.js`], { cwd: consumer, timeoutMs: 60_000 })
    time(`${label}: run the ${dir} program`, ran.ms)
    assert(ran.output.includes(expect), `the ${dir} program printed ${tail(ran.output, 5)}`)
    notes.push(`${dir} ${ran.output.trim().split("\n").pop()}`)
  }
  return notes.join("; ")
}

const copiesOf = (name) => {
  const found = new Set()
  const walk = (node, path) => {
    for (const [dep, child] of Object.entries(node.dependencies ?? {})) {
      if (dep === name && child.version) found.add(child.version)
      walk(child, [...path, dep])
    }
  }
  const r = spawnSync("npm", ["ls", name, "--all", "--json"], { cwd: consumer, encoding: "utf8", env: baseEnv })
  walk(JSON.parse(r.stdout || "{}"), [])
  const physical = []
  const scan = (dir) => {
    for (const entry of Fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const full = Path.join(dir, entry.name)
      if (full.endsWith(Path.join("node_modules", ...name.split("/")))) physical.push(full)
      else scan(full)
    }
  }
  scan(Path.join(consumer, "node_modules"))
  return { versions: [...found], physical, npmLsExit: r.status }
}

// --- the run ----------------------------------------------------------------------------------------
// --- flex-worker as an operator installs it (apps/worker/scripts/install-test.mjs): its packed bundle
// installed globally with plain npm into a prefix of its own, then `--help` and a cancel from there.
const workerInstall = async () => {
  const result = await run("node", [Path.join(repo, "apps/worker/scripts/install-test.mjs")], {
    cwd: repo,
    env: { npm_config_cache: Path.join(work, "npm-cache"), FLEX_INSTALL_TEST_DIR: Path.join(work, "worker-install") },
    timeoutMs: 15 * 60_000
  })
  const install = /npm install -g took (\d+) ms/.exec(result.output)
  if (install !== null) time("npm install -g flex-worker (better-sqlite3 included)", Number(install[1]))
  return tail(result.output, 1)
}

try {
  console.log(`release-test: temp dir ${work}`)
  await step("verdaccio on loopback", startRegistry)

  await step("copy of the working tree, pnpm install", async () => {
    const files = copyRepo()
    const install = await pnpm(["install", "--frozen-lockfile", "--prefer-offline"], {
      cwd: repo,
      // the workspace's own dependencies come from the usual registry (and pnpm's store), not verdaccio
      env: { npm_config_registry: uplink }
    })
    time("workspace install in the copy (pnpm, store warm)", install.ms)
    return `${files} files`
  })

  let first = {}
  await step("pnpm version-packages: versions agree with the changesets and @since tags", async () => {
    const status = await pnpm(["exec", "changeset", "status", "--output", "status.json"], { cwd: repo })
    const planned = readJson(Path.join(repo, "status.json")).releases
    Fs.rmSync(Path.join(repo, "status.json"))
    void status
    await pnpm(["version-packages"], { cwd: repo })
    first = versions()
    for (const library of libraries) {
      const plan = planned.find((r) => r.name === `@flex/${library}`)
      assert(plan, `changeset status planned no release of @flex/${library}`)
      assert(plan.newVersion === first[library], `@flex/${library}: planned ${plan.newVersion}, got ${first[library]}`)
    }
    // Every @since is at most the version being published (scripts/check-versions.mjs, run by lint).
    await run(process.execPath, ["scripts/check-versions.mjs", "--released"], { cwd: repo })
    const ua = Fs.readFileSync(Path.join(repo, "packages/http/src/internal/version.ts"), "utf8")
    assert(
      ua.includes(JSON.stringify(first.http)),
      "sync-versions did not carry @flex/http's version to its user agent"
    )
    return libraries.map((l) => `@flex/${l}@${first[l]}`).join(", ")
  })

  await step("pnpm release against the registry", async () => {
    const release = await pnpm(["release"], { cwd: repo, env: registryEnv(), timeoutMs: 8 * 60_000 })
    time("first release: turbo build + changeset publish", release.ms)
    for (const library of libraries) {
      const doc = await published(`@flex/${library}`)
      assert(doc.versions[first[library]], `@flex/${library}@${first[library]} is not in the registry`)
    }
    const http = (await published("@flex/http")).versions[first.http]
    const sandbox = (await published("@flex/sandbox")).versions[first.sandbox]
    assert(!http.dependencies?.["@flex/domain"], "@flex/http must not depend on @flex/domain (a peer only)")
    for (const [name, manifest] of [
      ["@flex/http", http],
      ["@flex/sandbox", sandbox]
    ]) {
      const range = manifest.peerDependencies?.["@flex/domain"]
      assert(range && !range.startsWith("workspace:"), `${name} publishes the @flex/domain peer range ${range}`)
    }
    return `@flex/http peers ${JSON.stringify(http.peerDependencies)}`
  })

  const installLines = libraries.map(readmeInstallLine)
  await step("fresh npm project: each README's install line, @flex packages by version", async () => {
    writeFile(Path.join(consumer, "package.json"), json({ name: "flex-consumer", private: true, type: "module" }))
    writeFile(Path.join(consumer, ".npmrc"), npmrc(false))
    // A cache of its own, so the time is a cold install through the registry and ~/.npm is not touched.
    const env = { npm_config_cache: Path.join(work, "npm-cache") }
    const installs = []
    for (const line of installLines) {
      const args = line
        .split(/\s+/)
        .slice(2)
        .map((arg) => {
          const library = libraries.find((l) => arg === `@flex/${l}`)
          return library ? `${arg}@${first[library]}` : arg
        })
      const install = await npm(["install", "--no-audit", "--no-fund", ...args], { cwd: consumer, env })
      time(`consumer: npm install ${args.join(" ")}`, install.ms)
      installs.push(install.ms)
    }
    const tools = await npm(["install", "--no-audit", "--no-fund", "-D", "typescript@~5.9.3", "@types/node@^20.19"], {
      cwd: consumer,
      env
    })
    time("consumer: npm install -D typescript @types/node", tools.ms)
    const lock = readJson(Path.join(consumer, "package-lock.json"))
    for (const library of libraries) {
      const entry = lock.packages[`node_modules/@flex/${library}`]
      assert(entry?.version === first[library], `installed @flex/${library}@${entry?.version}`)
      // npm leaves `resolved` out for the configured registry (verdaccio here); anything else is wrong.
      assert(
        entry.resolved === undefined || entry.resolved.startsWith(registry),
        `@flex/${library} came from ${entry.resolved}`
      )
    }
    const effect = lock.packages["node_modules/effect"].version
    assert(effect.startsWith("3."), `effect ${effect} installed: not the Effect 3 line`)
    return `effect ${effect}, @effect/platform ${lock.packages["node_modules/@effect/platform"].version}, @effect/platform-node ${lock.packages["node_modules/@effect/platform-node"].version}`
  })

  for (const [dir, program, type] of programs) {
    writeFile(Path.join(consumer, dir, "package.json"), json({ type }))
    writeFile(Path.join(consumer, dir, "tsconfig.json"), json(consumerTsconfig("out")))
    writeFile(Path.join(consumer, dir, "main.ts"), program)
  }
  await step("(a) an ESM program on the Effect API type-checks and runs", () =>
    consumerPrograms("first release", ["esm"])
  )
  await step("(b) a CommonJS program (module node16, require) type-checks and runs", () =>
    consumerPrograms("first release", ["cjs"])
  )
  // (c) needs the Promise entry in the release; until packages/http/src/PromiseClient.ts exists it is
  // reported PENDING (never passed silently), and once it exists a release without it fails.
  const promiseEntry = Fs.existsSync(Path.join(repo, "packages/http/src/PromiseClient.ts"))
  const consumerDirs = promiseEntry ? ["esm", "cjs", "promise"] : ["esm", "cjs"]
  if (promiseEntry) {
    await step("(c) a program without Effect (@flex/http/promise, startSandbox) type-checks and runs", () =>
      consumerPrograms("first release", ["promise"])
    )
  } else {
    pending(
      "(c) a program without Effect through @flex/http/promise",
      "packages/http/src/PromiseClient.ts does not exist, so the release has no ./promise module to test"
    )
  }

  let second = {}
  await step("a changeset bump of @flex/domain alone: versioned, released", async () => {
    writeFile(
      Path.join(repo, ".changeset/release-test-domain.md"),
      '---\n"@flex/domain": minor\n---\n\nA domain-only release made by the release test.\n'
    )
    await pnpm(["version-packages"], { cwd: repo })
    second = versions()
    assert(second.domain !== first.domain, `@flex/domain stayed at ${second.domain}`)
    assert(
      second.http === first.http && second.sandbox === first.sandbox,
      `dependents were bumped: ${JSON.stringify(second)}`
    )
    const release = await pnpm(["release"], { cwd: repo, env: registryEnv(), timeoutMs: 8 * 60_000 })
    time("domain-only release: turbo build + changeset publish", release.ms)
    const http = await published("@flex/http")
    assert(Object.keys(http.versions).length === 1, `@flex/http was republished: ${Object.keys(http.versions)}`)
    assert((await published("@flex/domain")).versions[second.domain], `@flex/domain@${second.domain} not published`)
    return `@flex/domain ${first.domain} -> ${second.domain}; @flex/http and @flex/sandbox stay ${first.http}`
  })

  await step("the consumer upgrades @flex/domain alone: one copy in its tree", async () => {
    const upgrade = await npm(["install", "--no-audit", "--no-fund", `@flex/domain@${second.domain}`], {
      cwd: consumer,
      env: { npm_config_cache: Path.join(work, "npm-cache") }
    })
    time(`consumer: npm install @flex/domain@${second.domain}`, upgrade.ms)
    const copies = copiesOf("@flex/domain")
    assert(copies.npmLsExit === 0, "npm ls reports problems in the tree")
    assert(
      copies.versions.length === 1 && copies.versions[0] === second.domain && copies.physical.length === 1,
      `@flex/domain in the tree: versions ${copies.versions.join(", ")}, copies at ${copies.physical.join(", ")}`
    )
    const ran = await consumerPrograms("after the upgrade", consumerDirs)
    return `npm ls: @flex/domain@${copies.versions[0]} only, 1 copy on disk; ${ran}`
  })

  await step("flex-worker without the monorepo: its packed bundle, npm install -g, --help and a cancel", () =>
    workerInstall()
  )

  finish(failed ? 1 : 0)
} catch {
  finish(1)
}
