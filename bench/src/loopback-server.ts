/**
 * The client case's server, run as its own process: answers every request on 127.0.0.1 with the same
 * cancel response (the `@flex/domain` fixture), on keep-alive connections. It does nothing else, so
 * what differs between the clients measured against it is the clients.
 *
 * The first line on stdout is "listening on http://127.0.0.1:PORT".
 */
import * as Http from "node:http"
import { cancelResponse } from "./fixture.js"

const body = Buffer.from(cancelResponse)
const headers = {
  "content-type": "application/json",
  "content-length": String(body.length),
  "request-id": "req_bench"
}

const server = Http.createServer((req, res) => {
  req.resume()
  req.on("end", () => {
    res.writeHead(200, headers)
    res.end(body)
  })
})
server.keepAliveTimeout = 60_000
let connections = 0
server.on("connection", () => {
  connections++
})
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("no port")
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`)
})
const stop = () => {
  if (process.env.BENCH_DEBUG) process.stderr.write(`loopback server: ${connections} connections\n`)
  server.closeAllConnections()
  server.close(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
