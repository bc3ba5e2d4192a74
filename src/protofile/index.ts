// .proto files -> FileDescriptorProtos and a protobuf-es registry, without protoc.
export { loadProtoFiles, type LoadedProtos, type LoadOptions } from "./loader.js";
export { link, type Linked, type LinkInput } from "./linker.js";
export { parseProto } from "./parser.js";
