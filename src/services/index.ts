export * from "./health/index.js";
export * from "./reflection/index.js";
