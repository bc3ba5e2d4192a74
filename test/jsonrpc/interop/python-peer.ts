// Whether Debian's python3 can import the Python peers a JSON-RPC interop test needs; with
// CI=true a missing peer fails the run instead of skipping (requirePeer).
import { spawnSync } from "node:child_process";
import { DEBIAN_PYTHON, requirePeer } from "../../interop/peers.js";

/**
 * `undefined` when `import <modules>` works under DEBIAN_PYTHON; otherwise the skip reason,
 * printed as a visible `# SKIP` line (`label` names the suite, `packages` the Debian packages).
 */
export function pythonPeerSkip(label: string, modules: string, packages: string): string | undefined {
  const r = spawnSync(DEBIAN_PYTHON, ["-c", `import ${modules}`], { encoding: "utf8", timeout: 20_000 });
  const missing = r.error
    ? `${DEBIAN_PYTHON} not runnable: ${r.error.message}`
    : r.status !== 0
      ? `${packages} missing under ${DEBIAN_PYTHON}: ${r.stderr.trim().split("\n").pop()}`
      : undefined;
  const skip = requirePeer(missing);
  if (skip) console.log(`# SKIP ${label}: ${skip}`);
  return skip;
}
