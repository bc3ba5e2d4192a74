// The router's cache of definitions built for generic handlers: what a generic handler
// answers for a path is remembered so hot paths skip rebuilding the definition, but the
// cache is bounded, so requests to ever new paths cannot grow it (reliability row 31).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, unaryUnaryRpcMethodHandler, type GenericRpcHandler, type RpcMethodHandler } from "../../src/index.js";
import { Router } from "../../src/service/router.js";

const noMetadata = () => new Metadata();
const echo = () => unaryUnaryRpcMethodHandler((b: Uint8Array) => b);

/** A catch-all generic handler: one shared handler object for every path under `prefix`. */
function catchAll(prefix: string, handler: RpcMethodHandler = echo()): GenericRpcHandler {
  return (d) => (d.method.startsWith(prefix) ? handler : undefined);
}

describe("router cache for generic handlers", () => {
  it("2,000 distinct paths answered by one catch-all generic handler leave at most Router.CACHE_LIMIT (256) cached definitions", () => {
    const router = new Router();
    router.addGeneric(catchAll("/dyn.Any/"));
    for (let i = 0; i < 2000; i++) {
      const def = router.lookup(`/dyn.Any/M${i}`, noMetadata);
      assert.ok(def, `path ${i} is served`);
      assert.equal(def.path, `/dyn.Any/M${i}`);
      assert.equal(def.name, `M${i}`);
    }
    assert.equal(Router.CACHE_LIMIT, 256);
    assert.ok(router.cachedDefinitions <= Router.CACHE_LIMIT, `cache holds ${router.cachedDefinitions} definitions, limit ${Router.CACHE_LIMIT}`);
  });

  it("paths no handler answers are not cached at all", () => {
    const router = new Router();
    router.addGeneric(catchAll("/dyn.Any/"));
    router.add(router.definitionFor("/reg.S/M", echo()));
    for (let i = 0; i < 2000; i++) assert.equal(router.lookup(`/no.Such${i}/M${i}`, noMetadata), undefined);
    assert.equal(router.cachedDefinitions, 0);
    assert.ok(router.lookup("/reg.S/M", noMetadata), "registered methods do not go through the cache");
    assert.equal(router.cachedDefinitions, 0);
  });

  it("a hot path keeps its definition while a flood of distinct paths passes (least recently used go first)", () => {
    const router = new Router();
    router.addGeneric(catchAll("/dyn.Any/"));
    const hot = router.lookup("/dyn.Any/Hot", noMetadata);
    for (let i = 0; i < 5000; i++) {
      router.lookup(`/dyn.Any/Flood${i}`, noMetadata);
      if (i % 100 === 0) assert.equal(router.lookup("/dyn.Any/Hot", noMetadata), hot, `hot definition reused after ${i} flood paths`);
    }
    assert.ok(router.cachedDefinitions <= Router.CACHE_LIMIT);
  });

  it("a generic handler that answers a path with a different handler gets a fresh definition, never a stale one", () => {
    const router = new Router();
    let current = echo();
    router.addGeneric(() => current);
    const first = router.lookup("/dyn.Any/M", noMetadata)!;
    assert.equal(router.lookup("/dyn.Any/M", noMetadata), first);
    current = unaryUnaryRpcMethodHandler((b: Uint8Array) => b.subarray(1));
    const second = router.lookup("/dyn.Any/M", noMetadata)!;
    assert.notEqual(second, first);
    assert.equal(router.cachedDefinitions, 1);
  });

  it("a malformed path answered by a catch-all handler is not served and not cached", () => {
    const router = new Router();
    router.addGeneric(() => echo());
    for (const bad of ["", "/", "nopath", "/only-service", "/a/b/c"]) assert.equal(router.lookup(bad, noMetadata), undefined, JSON.stringify(bad));
    assert.equal(router.cachedDefinitions, 0);
  });
});
