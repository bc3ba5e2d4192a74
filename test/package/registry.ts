// A loopback npm registry for the package tests, so that `npm install` in a fresh project runs
// exactly as a user's would (same commands, same resolution, install scripts and bins) without
// the network. It serves, for every package in this repository's package-lock.json, a packument
// holding the locked versions and, as tarballs, the very files npm downloaded for `npm ci`
// (read from npm's content-addressed cache by the lockfile's integrity, which npm verifies again
// on install). Packages added with addTarball() (the freshly packed switchboard) are served too.
// A tarball that is not in the cache is answered 404 and recorded in `missing`, so a test can
// say exactly what to fetch instead of failing obscurely.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

/** The fields of a lockfile entry (or package.json) that npm needs to resolve and place a package. */
const MANIFEST_FIELDS = [
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "engines",
  "os",
  "cpu",
  "libc",
  "hasInstallScript",
  "deprecated",
] as const;

type Manifest = Record<string, unknown> & { name: string; version: string };

interface Version {
  manifest: Manifest;
  /** Where the tarball's bytes are: a file, read when requested. */
  file: string;
  integrity: string;
}

/** The cacache content path of an SRI integrity string (npm's cache is cacache). */
export function cachePath(cacheDir: string, integrity: string): string {
  const first = integrity.trim().split(/\s+/)[0]!;
  const dash = first.indexOf("-");
  const algorithm = first.slice(0, dash);
  const hex = Buffer.from(first.slice(dash + 1), "base64").toString("hex");
  return path.join(cacheDir, "_cacache", "content-v2", algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

/** Orders x.y.z[-pre] versions (enough for "latest" among a lockfile's versions). */
function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = "", pre] = v.split("+")[0]!.split(/-(.*)/s);
    return { nums: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export class LocalRegistry {
  private readonly packages = new Map<string, Map<string, Version>>();
  private readonly tarballs = new Map<string, Version>();
  private server: Server | undefined;
  private base = "";
  /** Tarballs npm asked for that the cache does not hold ("name@version"). */
  readonly missing = new Set<string>();
  /** Every request path, for a test to check what npm fetched. */
  readonly requests: string[] = [];

  /** Adds every registry package of `lockfile` (package-lock.json v2/v3), its tarball from `cacheDir`. */
  addLockfile(lockfile: string, cacheDir: string): this {
    const lock = JSON.parse(readFileSync(lockfile, "utf8")) as { packages: Record<string, Record<string, unknown>> };
    for (const [location, entry] of Object.entries(lock.packages)) {
      if (location === "" || entry["link"] === true || typeof entry["integrity"] !== "string") continue;
      const name = typeof entry["name"] === "string" ? entry["name"] : location.slice(location.lastIndexOf("node_modules/") + "node_modules/".length);
      const manifest: Manifest = { name, version: String(entry["version"]) };
      for (const field of MANIFEST_FIELDS) if (entry[field] !== undefined) manifest[field] = entry[field];
      this.add(manifest, cachePath(cacheDir, entry["integrity"]), entry["integrity"]);
    }
    return this;
  }

  /** Adds a package from a tarball file (e.g. `npm pack` output) with its package.json `manifest`. */
  addTarball(file: string, manifest: Manifest): this {
    const integrity = `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
    const picked: Manifest = { name: manifest.name, version: manifest.version };
    for (const field of MANIFEST_FIELDS) if (manifest[field] !== undefined) picked[field] = manifest[field];
    this.add(picked, file, integrity);
    return this;
  }

  private add(manifest: Manifest, file: string, integrity: string): void {
    let versions = this.packages.get(manifest.name);
    if (!versions) this.packages.set(manifest.name, (versions = new Map()));
    versions.set(manifest.version, { manifest, file, integrity });
  }

  private tarballPath(name: string, version: string): string {
    return `/${name}/-/${name.slice(name.lastIndexOf("/") + 1)}-${version}.tgz`;
  }

  /** Listens on 127.0.0.1 (a free port) and resolves with the registry URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://registry.invalid");
      this.requests.push(url.pathname);
      const tarball = this.tarballs.get(url.pathname);
      if (tarball) {
        if (!existsSync(tarball.file)) {
          this.missing.add(`${tarball.manifest.name}@${tarball.manifest.version}`);
          res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not in the local npm cache" }));
          return;
        }
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(tarball.file));
        return;
      }
      const versions = this.packages.get(decodeURIComponent(url.pathname.slice(1)));
      if (req.method !== "GET" || !versions) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
        return;
      }
      const sorted = [...versions.keys()].sort(compareVersions);
      const body = {
        name: versions.values().next().value!.manifest.name,
        "dist-tags": { latest: sorted[sorted.length - 1] },
        versions: Object.fromEntries(
          sorted.map((v) => {
            const entry = versions.get(v)!;
            return [v, { ...entry.manifest, dist: { tarball: `${this.base}${this.tarballPath(entry.manifest.name, v)}`, integrity: entry.integrity } }];
          }),
        ),
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const versions of this.packages.values()) {
      for (const [version, entry] of versions) this.tarballs.set(this.tarballPath(entry.manifest.name, version), entry);
    }
    return `${this.base}/`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
