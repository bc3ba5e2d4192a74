export * from "./health/index.js";
export * from "./reflection/index.js";
export * from "./channelz/index.js";
