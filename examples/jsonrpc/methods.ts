// The example server's methods, on one dispatcher. The example server serves them, and the
// JSON-RPC tests (Python tinyrpc interop included) call exactly these, so the contract in
// examples/jsonrpc/server.ts is what the tests prove.
import { setTimeout as sleep } from "node:timers/promises";
import { JSONRPCError, JSONRPCErrorCode, RPCDispatcher } from "switchboard";

export interface ExampleMethods {
  readonly dispatcher: RPCDispatcher;
  /** How many times `bump` ran (what `notify_count` answers). */
  readonly counter: { readonly bumps: number };
}

export function exampleDispatcher(): ExampleMethods {
  let bumps = 0;
  const dispatcher = new RPCDispatcher();
  dispatcher.addMethod((x: unknown) => x, { name: "echo", params: ["x"] });
  // Numbers add, strings concatenate; anything else is an invalid-params error.
  dispatcher.addMethod(
    (a: unknown, b: unknown) => {
      if (typeof a === "number" && typeof b === "number") return a + b;
      if (typeof a === "string" && typeof b === "string") return a + b;
      throw JSONRPCError.standard(JSONRPCErrorCode.INVALID_PARAMS, "add takes two numbers or two strings");
    },
    { name: "add", params: ["a", "b"] },
  );
  // An application error (-32000) whose message is exactly msg.
  dispatcher.addMethod(
    (msg: unknown) => {
      throw new Error(String(msg));
    },
    { name: "fail", params: ["msg"] },
  );
  // Sleeps on a timer, so other calls keep being answered meanwhile.
  dispatcher.addMethod(
    async (seconds: unknown) => {
      if (typeof seconds !== "number" || !(seconds >= 0) || seconds > 60) throw JSONRPCError.standard(JSONRPCErrorCode.INVALID_PARAMS, "seconds must be a number from 0 to 60");
      await sleep(seconds * 1000);
      return seconds;
    },
    { name: "slow", params: ["seconds"] },
  );
  dispatcher.addMethod(() => void bumps++, { name: "bump", params: [] });
  dispatcher.addMethod(() => bumps, { name: "notify_count", params: [] });
  const math = new RPCDispatcher();
  math.addMethod((a: number, b: number) => a * b, { name: "mul", params: ["a", "b"] });
  dispatcher.addSubdispatch(math, "math.");
  return {
    dispatcher,
    counter: {
      get bumps() {
        return bumps;
      },
    },
  };
}
