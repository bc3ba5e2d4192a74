// Descriptors built at run time for the reflection tests: a proto2 file with nested types,
// enums, extensions (top level, nested, and of google.protobuf.MessageOptions) and a service
// on well-known types, plus a second file that extends a message of the first.
//
//   // sbtest/clock.proto
//   syntax = "proto2";
//   package sbtest;
//   import "google/protobuf/empty.proto";
//   import "google/protobuf/timestamp.proto";
//   import "google/protobuf/descriptor.proto";
//   message Extendable {
//     optional string id = 1;
//     message Inner { enum Color { RED = 0; GREEN = 1; } optional Color color = 1; }
//     extensions 100 to 199;
//   }
//   enum Mood { HAPPY = 0; SAD = 1; }
//   extend Extendable { optional int32 weight = 100; }
//   message Holder { extend Extendable { optional string label = 150; } }
//   extend google.protobuf.MessageOptions { optional string sb_tag = 50001; }
//   service Clock { rpc Now (google.protobuf.Empty) returns (google.protobuf.Timestamp); }
//
//   // sbtest/more.proto
//   syntax = "proto2";
//   package sbtest;
//   import "sbtest/clock.proto";
//   import "google/protobuf/empty.proto";
//   extend Extendable { optional google.protobuf.Empty nothing = 120; }
import { create, createFileRegistry, type DescFile, type DescService } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_descriptor,
  file_google_protobuf_empty,
  file_google_protobuf_timestamp,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const wkt = new Map<string, DescFile>(
  [file_google_protobuf_descriptor, file_google_protobuf_empty, file_google_protobuf_timestamp].map((f) => [f.proto.name, f]),
);

const clockProto: FileDescriptorProto = create(FileDescriptorProtoSchema, {
  name: "sbtest/clock.proto",
  package: "sbtest",
  syntax: "proto2",
  dependency: ["google/protobuf/empty.proto", "google/protobuf/timestamp.proto", "google/protobuf/descriptor.proto"],
  messageType: [
    {
      name: "Extendable",
      field: [{ name: "id", number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: "id" }],
      nestedType: [
        {
          name: "Inner",
          field: [{ name: "color", number: 1, label: Label.OPTIONAL, type: Type.ENUM, typeName: ".sbtest.Extendable.Inner.Color", jsonName: "color" }],
          enumType: [{ name: "Color", value: [{ name: "RED", number: 0 }, { name: "GREEN", number: 1 }] }],
        },
      ],
      extensionRange: [{ start: 100, end: 200 }],
    },
    {
      name: "Holder",
      extension: [{ name: "label", number: 150, label: Label.OPTIONAL, type: Type.STRING, extendee: ".sbtest.Extendable", jsonName: "label" }],
    },
  ],
  enumType: [{ name: "Mood", value: [{ name: "HAPPY", number: 0 }, { name: "SAD", number: 1 }] }],
  extension: [
    { name: "weight", number: 100, label: Label.OPTIONAL, type: Type.INT32, extendee: ".sbtest.Extendable", jsonName: "weight" },
    { name: "sb_tag", number: 50001, label: Label.OPTIONAL, type: Type.STRING, extendee: ".google.protobuf.MessageOptions", jsonName: "sbTag" },
  ],
  service: [{ name: "Clock", method: [{ name: "Now", inputType: ".google.protobuf.Empty", outputType: ".google.protobuf.Timestamp" }] }],
});

const moreProto: FileDescriptorProto = create(FileDescriptorProtoSchema, {
  name: "sbtest/more.proto",
  package: "sbtest",
  syntax: "proto2",
  dependency: ["sbtest/clock.proto", "google/protobuf/empty.proto"],
  extension: [{ name: "nothing", number: 120, label: Label.OPTIONAL, type: Type.MESSAGE, typeName: ".google.protobuf.Empty", extendee: ".sbtest.Extendable", jsonName: "nothing" }],
});

const clockRegistry = createFileRegistry(clockProto, (name) => wkt.get(name));

/** sbtest/clock.proto */
export const clockFile: DescFile = clockRegistry.getFile("sbtest/clock.proto")!;
/** sbtest.Clock */
export const Clock: DescService = clockFile.services[0]!;
/** sbtest/more.proto (imports clock.proto) */
export const moreFile: DescFile = createFileRegistry(moreProto, (name) => (name === clockFile.proto.name ? clockFile : wkt.get(name))).getFile("sbtest/more.proto")!;
