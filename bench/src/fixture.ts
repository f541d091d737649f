/** The realistic cancel response: `@flex/domain`'s test fixture in the seed's full shape (~6 KB). */
import { readFileSync } from "node:fs"

export const cancelResponsePath = new URL("../../packages/domain/test/fixtures/cancel-response.json", import.meta.url)

/** Re-serialised compactly, as an API sends it. */
export const cancelResponse: string = JSON.stringify(JSON.parse(readFileSync(cancelResponsePath, "utf8")))
