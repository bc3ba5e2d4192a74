export { ServiceCheck, ServiceStatus, type CheckFunction, type CheckResult, type HealthCheck, type HealthLogger, type ServiceCheckOptions } from "./check.js";
export { HealthService, OVERALL, ServingStatus, type HealthChecks, type HealthServiceKey } from "./service.js";
