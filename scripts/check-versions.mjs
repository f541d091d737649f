// `pnpm lint` (and the release test): versions, ranges and `@since` tags agree with what changesets
// will publish. The rule is in .changeset/README.md:
//
//  - the version a library publishes next is what `changeset status` plans for it (its package.json
//    version when no changeset is pending); every `@since` in its src is a version at most that one, so
//    nothing claims a release that does not have it;
//  - @flex/http and @flex/sandbox take @flex/domain as a peer whose range holds the domain's next
//    version (so one copy of the domain serves a whole service);
//  - each README's `npm install` line names every peer dependency of its package with the same range as
//    package.json (`effect@^3.22` is `^3.22.0`), and nothing else unpinned.
//
// Usage: node scripts/check-versions.mjs [--released]   (--released: right after `changeset version`,
// when nothing is pending and package.json holds the versions being published)
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import semver from "semver"

const root = fileURLToPath(new URL("..", import.meta.url))
const libraries = ["domain", "http", "sandbox"]
const released = process.argv.includes("--released")
const problems = []

const pkgs = Object.fromEntries(
  libraries.map((l) => [l, JSON.parse(Fs.readFileSync(Path.join(root, "packages", l, "package.json"), "utf8"))])
)

// What changesets plans: `changeset status --output` writes the release plan as JSON.
const next = Object.fromEntries(libraries.map((l) => [l, pkgs[l].version]))
if (!released) {
  const out = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "flex-status-")), "status.json")
  try {
    execFileSync(Path.join(root, "node_modules/.bin/changeset"), ["status", "--output", out], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"]
    })
    for (const release of JSON.parse(Fs.readFileSync(out, "utf8")).releases) {
      const library = libraries.find((l) => release.name === `@flex/${l}`)
      if (library && release.type !== "none") next[library] = release.newVersion
    }
  } finally {
    Fs.rmSync(Path.dirname(out), { recursive: true, force: true })
  }
}

const walk = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(Path.join(dir, e.name)) : [Path.join(dir, e.name)]
  )

for (const library of libraries) {
  const version = next[library]
  if (version === "0.0.0") problems.push(`@flex/${library}: nothing would be published (0.0.0, no changeset pending)`)
  for (const file of walk(Path.join(root, "packages", library, "src")).filter((f) => f.endsWith(".ts"))) {
    const lines = Fs.readFileSync(file, "utf8").split("\n")
    lines.forEach((line, i) => {
      const match = /@since\s+(\S+)/.exec(line)
      if (!match) return
      const where = `${Path.relative(root, file)}:${i + 1}`
      const since = match[1]
      if (!semver.valid(since)) problems.push(`${where}: @since ${since} is not a version`)
      else if (semver.gt(since, version)) {
        problems.push(
          `${where}: @since ${since}, but the next @flex/${library} release is ${version} (write @since ${version}; see .changeset/README.md)`
        )
      }
    })
  }
}

for (const library of ["http", "sandbox"]) {
  const range = pkgs[library].peerDependencies?.["@flex/domain"]
  if (!range) problems.push(`@flex/${library}: @flex/domain must be a peer dependency`)
  else if (!semver.satisfies(next.domain, range)) {
    problems.push(`@flex/${library}: its @flex/domain peer range ${range} does not hold the next domain ${next.domain}`)
  }
  if (pkgs[library].dependencies?.["@flex/domain"]) {
    problems.push(`@flex/${library}: @flex/domain is a dependency too (two copies can result); keep it a peer only`)
  }
}

const sameRange = (a, b) => {
  try {
    return semver.subset(a, b) && semver.subset(b, a)
  } catch {
    return false
  }
}

const installLines = (file) =>
  Fs.readFileSync(file, "utf8")
    .split("\n")
    .map((line, i) => ({ line: line.trim(), at: `${Path.relative(root, file)}:${i + 1}` }))
    .filter(({ line }) => /^(npm install|npm i|pnpm add|yarn add) /.test(line))

for (const library of libraries) {
  const readme = Path.join(root, "packages", library, "README.md")
  const lines = installLines(readme)
  if (lines.length === 0) problems.push(`${Path.relative(root, readme)}: no install line`)
  const peers = pkgs[library].peerDependencies ?? {}
  for (const { line, at } of lines) {
    const args = line
      .split(/\s+/)
      .slice(2)
      .filter((a) => !a.startsWith("-"))
    const named = new Map(
      args.map((arg) => {
        const at = arg.lastIndexOf("@")
        return at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, undefined]
      })
    )
    if (!named.has(`@flex/${library}`)) problems.push(`${at}: does not install @flex/${library}`)
    for (const [name, range] of Object.entries(peers)) {
      if (!named.has(name)) problems.push(`${at}: misses ${name}, a peer dependency of @flex/${library}`)
      else if (!name.startsWith("@flex/") && !sameRange(named.get(name) ?? "*", range)) {
        problems.push(`${at}: ${name}@${named.get(name)} is not the peer range ${range} of @flex/${library}`)
      }
    }
    for (const [name, range] of named) {
      if (!name.startsWith("@flex/") && range === undefined) {
        problems.push(`${at}: ${name} without a range would install its latest major (Effect 4 for effect)`)
      }
    }
    if (!/Effect 3 line/.test(Fs.readFileSync(readme, "utf8"))) {
      problems.push(`${Path.relative(root, readme)}: the install line's section must say "Effect 3 line"`)
    }
  }
}

if (problems.length > 0) {
  console.error(`check-versions: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`)
  process.exit(1)
}
console.log(
  `check-versions: next releases ${libraries.map((l) => `@flex/${l}@${next[l]}`).join(", ")}; @since tags, peer ranges and README install lines agree`
)
