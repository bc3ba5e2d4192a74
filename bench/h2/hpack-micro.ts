/**
 * HPACK micro-benchmark (standalone: node --import tsx bench/h2/hpack-micro.ts [iterations]). Prints ns per header
 * block for the typical gRPC request shapes: every field literal (a client that indexes nothing), Huffman-coded
 * literals, and the steady state of a client that indexes (all fields found in the dynamic table), plus encoding.
 *
 * Under tsx the figures are roughly 1.5-2x the compiled ones: tsx transforms with esbuild's keepNames, whose
 * __name() helpers on every function and class slow this kind of code. For figures that match the compiled package:
 *   npx esbuild bench/h2/hpack-micro.ts --bundle --platform=node --format=esm --outfile=/tmp/hpack-micro.mjs
 *   node /tmp/hpack-micro.mjs
 */
import { HpackDecoder, HpackEncoder } from "../../src/h2/hpack/index.js";

const REQUEST = [
  ":method", "POST",
  ":scheme", "http",
  ":path", "/helloworld.Greeter/SayHello",
  ":authority", "localhost:50051",
  "content-type", "application/grpc",
  "te", "trailers",
  "user-agent", "grpc-node-js/1.14.7",
  "grpc-accept-encoding", "identity,deflate,gzip",
  "grpc-timeout", "4999m",
  "content-length", "17",
];

/** Best of 5 rounds: the minimum is the figure least disturbed by other load on the machine. */
function bench(label: string, iterations: number, fn: () => void): void {
  for (let i = 0; i < Math.min(20_000, iterations); i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / iterations);
  }
  console.log(`${label.padEnd(58)} ${best.toFixed(0).padStart(6)} ns/block`);
}

const n = Number(process.argv[2] ?? 200_000);

// Literal without indexing every time, raw and Huffman (made with table size 0: nothing can be indexed).
for (const huffman of ["never", "always"] as const) {
  const block = new HpackEncoder({ maxTableSize: 0, huffman }).encode(REQUEST).subarray(1); // drop the size update
  const decoder = new HpackDecoder();
  bench(`decode literal request (${block.length} B, huffman ${huffman})`, n, () => decoder.decode(block));
}

// A client that indexes: after the first block every field is one octet (except the never-repeated ones).
{
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(REQUEST));
  const block = encoder.encode(REQUEST);
  const copy = new HpackDecoder();
  copy.decode(new HpackEncoder().encode(REQUEST));
  bench(`decode indexed request (${block.length} B, steady state)`, n, () => copy.decode(block));
}

{
  const encoder = new HpackEncoder();
  const response = [":status", "200", "content-type", "application/grpc", "grpc-accept-encoding", "identity,deflate,gzip"];
  bench("encode response headers (steady state)", n, () => encoder.encode(response));
  bench("encode request (steady state)", n, () => encoder.encode(REQUEST));
}
