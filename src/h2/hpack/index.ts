export { HpackError } from "./errors.js";
export { HpackDecoder, type DecodedBlock, type HpackDecoderOptions } from "./decoder.js";
export { HpackEncoder, NEVER_INDEXED_NAMES, type HpackEncoderOptions, type HuffmanMode } from "./encoder.js";
export { decodeInteger, encodeInteger } from "./integer.js";
export { huffmanEncode, huffmanEncodedLength, huffmanDecode, maxDecodedLength } from "./huffman.js";
