import { configDefaults, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The chaos suite (test/chaos/**) takes minutes: it runs with `pnpm test:chaos` (vitest.chaos.config.ts),
// and its quick version (test/Chaos.quick.test.ts) runs here.
export default mergeConfig(shared, { test: { exclude: [...configDefaults.exclude, "test/chaos/**"] } })
