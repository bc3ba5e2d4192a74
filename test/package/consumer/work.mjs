// The pool's module: plain JavaScript functions that run on the worker threads.
import { isMainThread } from "node:worker_threads";

const SERVING = 1;
const NOT_SERVING = 2;

export function check() {
  if (isMainThread) throw new Error("check ran on the main thread");
  return { status: SERVING };
}

export function* watch() {
  yield { status: NOT_SERVING };
  yield { status: SERVING };
}
