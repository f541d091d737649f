import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))

// Tests run on the sources of every workspace library, so `pnpm test` needs no build first and a
// change in @flex/domain is seen at once by the tests of @flex/http and @flex/sandbox.
const workspace = (name: string, dir: string) => [
  { find: new RegExp(`^${name}$`), replacement: path.join(root, dir, "src", "index.ts") },
  { find: new RegExp(`^${name}/(.*)$`), replacement: path.join(root, dir, "src", "$1.ts") }
]

const config: ViteUserConfig = {
  esbuild: { target: "es2022" },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    sequence: { concurrent: false },
    fakeTimers: { toFake: undefined },
    reporters: process.env.CI ? ["default"] : ["default"]
  },
  resolve: {
    alias: [
      // Export subpaths that are not a module's own name (see the package's `exports`).
      { find: /^@flex\/http\/promise$/, replacement: path.join(root, "packages/http/src/PromiseClient.ts") },
      ...workspace("@flex/domain", "packages/domain"),
      ...workspace("@flex/http", "packages/http"),
      ...workspace("@flex/sandbox", "packages/sandbox")
    ]
  }
}

export default config
