// The service module ThreadPoolServer threads and ForkingServer children import (rpyc-pool.mjs).
import { threadId } from "node:worker_threads";
import { Service } from "switchboard/rpyc";

export class WhereService extends Service {
  exposed_where() {
    return `${process.pid}:${threadId}`;
  }
  exposed_add(a, b = 10) {
    return a + b;
  }
}
