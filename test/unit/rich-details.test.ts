import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, createRegistry, isMessage, ScalarType, toBinary, type DescField, type Message } from "@bufbuild/protobuf";
import { anyPack, AnySchema, anyUnpack, DurationSchema, StringValueSchema, TimestampSchema, type Any } from "@bufbuild/protobuf/wkt";
import {
  BadRequestSchema,
  Code,
  detail,
  detailTypes,
  ErrorInfoSchema,
  Metadata,
  registerDetailType,
  RetryInfoSchema,
  RpcError,
  SwitchboardError,
} from "../../src/index.js";
import { decodeStatusDetails, encodeStatusDetails } from "../../src/grpc/status-details.js";

describe("rich error details (google.rpc.Status in grpc-status-details-bin)", () => {
  const details = [detail(DurationSchema, create(DurationSchema, { seconds: 5n })), detail(TimestampSchema, create(TimestampSchema, { seconds: 7n }))];

  it("detail() packs a message as an Any with the type.googleapis.com URL", () => {
    assert.equal(details[0]!.typeUrl, "type.googleapis.com/google.protobuf.Duration");
  });
  it("encodes and decodes google.rpc.Status with code, message and details", () => {
    const decoded = decodeStatusDetails(encodeStatusDetails(Code.INVALID_ARGUMENT, "bad", details));
    assert.deepEqual(decoded, { code: Code.INVALID_ARGUMENT, message: "bad", details });
  });
  it("findDetails() decodes the details of one type and skips the others", () => {
    const err = new RpcError(Code.INVALID_ARGUMENT, "bad", { details });
    assert.deepEqual(err.findDetails(DurationSchema).map((d) => d.seconds), [5n]);
    assert.deepEqual(err.findDetails(TimestampSchema).map((d) => d.seconds), [7n]);
  });
  it("bytes that are not a google.rpc.Status decode to undefined", () => {
    assert.equal(decodeStatusDetails(new Uint8Array([0xff, 0xff])), undefined);
  });
});

// The public google.rpc error model, written down independently of proto/google/rpc: peers
// decode our details only if names, numbers and types match it exactly.
const PUBLIC_MODEL: Record<string, string[]> = {
  "google.rpc.ErrorInfo": ["reason = 1 string", "domain = 2 string", "metadata = 3 map<string, string>"],
  "google.rpc.RetryInfo": ["retry_delay = 1 google.protobuf.Duration"],
  "google.rpc.DebugInfo": ["stack_entries = 1 repeated string", "detail = 2 string"],
  "google.rpc.QuotaFailure": ["violations = 1 repeated google.rpc.QuotaFailure.Violation"],
  "google.rpc.QuotaFailure.Violation": [
    "subject = 1 string",
    "description = 2 string",
    "api_service = 3 string",
    "quota_metric = 4 string",
    "quota_id = 5 string",
    "quota_dimensions = 6 map<string, string>",
    "quota_value = 7 int64",
    "future_quota_value = 8 optional int64",
  ],
  "google.rpc.PreconditionFailure": ["violations = 1 repeated google.rpc.PreconditionFailure.Violation"],
  "google.rpc.PreconditionFailure.Violation": ["type = 1 string", "subject = 2 string", "description = 3 string"],
  "google.rpc.BadRequest": ["field_violations = 1 repeated google.rpc.BadRequest.FieldViolation"],
  "google.rpc.BadRequest.FieldViolation": ["field = 1 string", "description = 2 string", "reason = 3 string", "localized_message = 4 google.rpc.LocalizedMessage"],
  "google.rpc.RequestInfo": ["request_id = 1 string", "serving_data = 2 string"],
  "google.rpc.ResourceInfo": ["resource_type = 1 string", "resource_name = 2 string", "owner = 3 string", "description = 4 string"],
  "google.rpc.Help": ["links = 1 repeated google.rpc.Help.Link"],
  "google.rpc.Help.Link": ["description = 1 string", "url = 2 string"],
  "google.rpc.LocalizedMessage": ["locale = 1 string", "message = 2 string"],
};

function fieldShape(f: DescField): string {
  const scalar = (t: ScalarType) => ScalarType[t].toLowerCase();
  switch (f.fieldKind) {
    case "scalar":
      return `${f.proto.proto3Optional ? "optional " : ""}${scalar(f.scalar)}`;
    case "message":
      return f.message.typeName;
    case "enum":
      return f.enum.typeName;
    case "list":
      return `repeated ${f.listKind === "scalar" ? scalar(f.scalar) : f.listKind === "enum" ? f.enum.typeName : f.message.typeName}`;
    case "map":
      return `map<${scalar(f.mapKey)}, ${f.mapKind === "scalar" ? scalar(f.scalar) : f.mapKind === "enum" ? f.enum.typeName : f.message.typeName}>`;
  }
}

/** A wire round trip: what a client's RpcError holds after the server sent `err`. */
function received(err: RpcError): RpcError {
  const status = decodeStatusDetails(encodeStatusDetails(err.code, err.rawMessage, err.details))!;
  return new RpcError(status.code, status.message, { details: status.details });
}

const badRequest = create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty", reason: "EMPTY" }] });
const errorInfo = create(ErrorInfoSchema, { reason: "NAME_EMPTY", domain: "greeter.example", metadata: { field: "name" } });

describe("RpcError details as protobuf-es messages (the google.rpc error model)", () => {
  it("every google.rpc detail type is registered by default, with the public model's field names, numbers and types", () => {
    for (const [typeName, fields] of Object.entries(PUBLIC_MODEL)) {
      const schema = detailTypes.getMessage(typeName);
      assert.ok(schema, `${typeName} is not registered`);
      assert.deepEqual(
        schema.fields.map((f) => `${f.name} = ${f.number} ${fieldShape(f)}`),
        fields,
        typeName,
      );
    }
  });

  it("new RpcError(INVALID_ARGUMENT, msg, [message]) packs a registered message as an Any with the type.googleapis.com URL", () => {
    const err = new RpcError(Code.INVALID_ARGUMENT, "bad name", [badRequest]);
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.rawMessage, "bad name");
    assert.equal(err.details.length, 1);
    assert.equal(err.details[0]!.typeUrl, "type.googleapis.com/google.rpc.BadRequest");
    assert.deepEqual(err.details[0]!.value, toBinary(BadRequestSchema, badRequest));
  });

  it("a detail list may mix messages, detail(Schema, msg), { typeUrl, value } and Any messages: order is kept, an Any is not wrapped again (FAILED_PRECONDITION)", () => {
    const raw = { typeUrl: "type.example.com/opaque.Thing", value: new Uint8Array([1, 2, 3]) };
    const any = anyPack(StringValueSchema, create(StringValueSchema, { value: "s" }));
    const err = new RpcError(Code.FAILED_PRECONDITION, "mixed", [errorInfo, detail(DurationSchema, create(DurationSchema, { seconds: 2n })), raw, any]);
    assert.deepEqual(
      err.details.map((d) => d.typeUrl),
      ["type.googleapis.com/google.rpc.ErrorInfo", "type.googleapis.com/google.protobuf.Duration", raw.typeUrl, "type.googleapis.com/google.protobuf.StringValue"],
    );
    assert.equal(err.details[2], raw, "a { typeUrl, value } detail is kept as given");
    assert.deepEqual(err.details[3]!.value, any.value);
  });

  it("the options form takes the same details next to metadata and cause (ABORTED)", () => {
    const cause = new Error("root");
    const err = new RpcError(Code.ABORTED, "x", { details: [badRequest], metadata: new Metadata({ "x-k": "v" }), cause });
    assert.equal(err.details[0]!.typeUrl, "type.googleapis.com/google.rpc.BadRequest");
    assert.equal(err.metadata?.get("x-k"), "v");
    assert.equal(err.cause, cause);
    assert.deepEqual(new RpcError(Code.ABORTED, "x", []).details, []);
  });

  it("a value that is neither a message nor { typeUrl, value } throws ERR_SB_BAD_DETAIL", () => {
    for (const bad of [{ typeUrl: "x" }, null, "text"]) {
      assert.throws(() => new RpcError(Code.INTERNAL, "x", [bad as never]), (e: unknown) => e instanceof SwitchboardError && e.code === "ERR_SB_BAD_DETAIL");
    }
  });

  it("decodedDetails: registered types decode to typed messages; other types stay google.protobuf.Any stand-ins with type URL and bytes intact (INVALID_ARGUMENT)", () => {
    const unknown = detail(StringValueSchema, create(StringValueSchema, { value: "kept" }));
    const err = received(new RpcError(Code.INVALID_ARGUMENT, "bad", [badRequest, unknown, errorInfo]));
    const [first, second, third] = err.decodedDetails;
    assert.ok(isMessage(first, BadRequestSchema));
    assert.equal(first.fieldViolations[0]!.field, "name");
    assert.equal(first.fieldViolations[0]!.reason, "EMPTY");
    assert.ok(isMessage(second, AnySchema));
    assert.equal(second.typeUrl, unknown.typeUrl);
    assert.deepEqual(second.value, unknown.value);
    assert.equal(anyUnpack(second, createRegistry(StringValueSchema))?.$typeName, "google.protobuf.StringValue");
    assert.equal(anyUnpack(second, StringValueSchema)?.value, "kept");
    assert.ok(isMessage(third, ErrorInfoSchema));
    assert.deepEqual(third.metadata, { field: "name" });
    assert.equal(err.decodedDetails, err.decodedDetails, "decoded once, on first read");
  });

  it("a registered type under another type URL host decodes by its last segment; bytes that are not a valid message of their type stay an Any (UNKNOWN)", () => {
    const err = new RpcError(Code.UNKNOWN, "x", [
      { typeUrl: "example.com/schemas/google.rpc.RetryInfo", value: toBinary(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: { seconds: 3n } })) },
      { typeUrl: "type.googleapis.com/google.rpc.BadRequest", value: new Uint8Array([0x0a, 0x05, 0x01]) },
      { typeUrl: "type.googleapis.com/", value: new Uint8Array([1]) },
    ]);
    const [retry, truncated, nameless] = err.decodedDetails;
    assert.ok(isMessage(retry, RetryInfoSchema));
    assert.equal(retry.retryDelay?.seconds, 3n);
    for (const d of [truncated, nameless]) assert.ok(isMessage(d, AnySchema));
    assert.deepEqual((truncated as Any).value, new Uint8Array([0x0a, 0x05, 0x01]));
  });

  it("unpackDetails(registry) decodes with that registry only: the google.rpc types become Any stand-ins there", () => {
    const err = received(new RpcError(Code.INVALID_ARGUMENT, "x", [badRequest, detail(StringValueSchema, create(StringValueSchema, { value: "v" }))]));
    const decoded: Message[] = err.unpackDetails(createRegistry(StringValueSchema));
    assert.deepEqual(decoded.map((d) => d.$typeName), ["google.protobuf.Any", "google.protobuf.StringValue"]);
  });

  it("decoded details thrown again reproduce the wire details byte for byte, Any stand-ins included (INVALID_ARGUMENT)", () => {
    const original = new RpcError(Code.INVALID_ARGUMENT, "x", [badRequest, errorInfo, { typeUrl: "type.example.com/opaque.Thing", value: new Uint8Array([8, 1]) }]);
    const client = received(original);
    const forwarded = new RpcError(client.code, client.rawMessage, client.decodedDetails);
    assert.deepEqual(forwarded.details, original.details);
  });

  it("a message of an unregistered type throws ERR_SB_BAD_DETAIL naming the type; after registerDetailType(schema) it packs and decodes (INTERNAL)", () => {
    const ts = create(TimestampSchema, { seconds: 9n });
    assert.throws(
      () => new RpcError(Code.INTERNAL, "x", [ts]),
      (e: unknown) => e instanceof SwitchboardError && e.code === "ERR_SB_BAD_DETAIL" && /google\.protobuf\.Timestamp.*registerDetailType/.test(e.message),
    );
    registerDetailType(TimestampSchema);
    const [decoded] = received(new RpcError(Code.INTERNAL, "x", [ts])).decodedDetails;
    assert.ok(isMessage(decoded, TimestampSchema));
    assert.equal(decoded.seconds, 9n);
  });
});
