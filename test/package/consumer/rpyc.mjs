// Plain JavaScript, run by plain node (no loader): the RPyC front from the installed package
// (`switchboard/rpyc`). A service on a ThreadedServer, called by our client with a keyword
// argument, a callback and an object by reference; the process must end by itself with exit 0.
import { connect, kw, Service, ThreadedServer } from "switchboard/rpyc";

class Box {
  constructor() {
    this.items = 0;
  }
  exposed_put(n = 1) {
    return (this.items += n);
  }
}

class ShopService extends Service {
  exposed_add(a, b) {
    return a + b;
  }
  async exposed_apply(fn, x) {
    return await fn(x);
  }
  exposed_box() {
    return new Box();
  }
}

const server = new ThreadedServer(ShopService, { hostname: "127.0.0.1", port: 0 });
await server.start();
const conn = await connect("127.0.0.1", server.port);
const root = await conn.root;
const box = await root.box();
await box.put(kw({ n: 4 }));
console.log(`rpyc: ${await root.get_service_name()} ${await root.add(2, 3)} ${await root.apply((x) => x + 1, 41)} ${await box.put()}`);
await conn.close();
await server.close();
