export { DescriptorIndex, WELL_KNOWN_FILES, type ReflectionSource } from "./index-files.js";
export { addReflection, ReflectionService, type ReflectionAnswer, type ReflectionOptions, type ReflectionRequest } from "./service.js";
