// Errors in .proto files, one line each in protoc's `file.proto:LINE:COL: message` form (or
// `file.proto: message` where no position applies), with the stable code ERR_SB_BAD_PROTO.
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Pos } from "./tokenizer.js";

export function protoError(file: string, at: Pos | undefined, message: string): SwitchboardError {
  const where = at ? `${file}:${at.line}:${at.col}` : file;
  return new SwitchboardError(ErrorCode.BAD_PROTO, `${where}: ${message.replace(/\s*\n\s*/g, " ")}`);
}
