// Runs on the pool's worker threads: CPU-bound work that would stall the event loop.
import type { WorkerContext } from "switchboard";
import type { HelloReply, HelloRequest } from "../gen/helloworld/helloworld_pb.js";

type Reply = Pick<HelloReply, "message">;

/** Counts the primes below 2,000,000 the slow way (~0.3-1 s of CPU), then greets. */
export function sayHello(request: HelloRequest): Reply {
  return { message: `Hello, ${request.name}! There are ${countPrimes(2_000_000)} primes below 2,000,000.` };
}

/** Streams the prime count below 10^k for k = 3..6; stops early if the call is cancelled. */
export function* sayHelloStream(request: HelloRequest, ctx: WorkerContext): Generator<Reply> {
  for (let k = 3; k <= 6 && !ctx.signal.aborted; k++) yield { message: `${request.name}: ${countPrimes(10 ** k)} primes below 10^${k}` };
}

function countPrimes(below: number): number {
  let count = 0;
  for (let n = 2; n < below; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
