// The RPyC quickstart (docs/rpyc.md): a service with exposed members on a ThreadedServer, then
// our client calls it, passes a callback and holds a server object by reference. A stock Python
// client does the same with `rpyc.connect("127.0.0.1", port).root.add(2, 3)`.
import { connect, exposed, kw, Service, ThreadedServer } from "switchboard/rpyc";

class Tally {
  private total = 0;
  exposed_add(n: number): number {
    return (this.total += n);
  }
  get exposed_total(): number {
    return this.total;
  }
}

class CalculatorService extends Service {
  // reachable as `add` and `exposed_add`
  exposed_add(a: number, b: number): number {
    return a + b;
  }

  // @exposed: reachable under its own name (and as `exposed_mul`)
  @exposed
  mul(a: number, b = 1): number {
    return a * b;
  }

  // calls back into the client: fn is a proxy of the caller's function
  async exposed_apply(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return await fn(x);
  }

  // a new object, passed by reference
  exposed_tally(): Tally {
    return new Tally();
  }
}

const server = new ThreadedServer(CalculatorService, { hostname: "127.0.0.1", port: 0 });
await server.start();
console.log(`CALCULATOR on port ${server.port}`);

const conn = await connect("127.0.0.1", server.port);
const root = await conn.root;
console.log(await root.get_service_name()); // CALCULATOR
console.log(await root.add(2, 3)); // 5
console.log(await root.mul(6, kw({ b: 7 }))); // 42
console.log(await root.apply((x: number) => x * x, 9)); // 81
const tally = await root.tally();
await tally.add(10);
await tally.add(5);
console.log(await tally.total); // 15

await conn.close();
await server.close();
