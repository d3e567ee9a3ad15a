// Public surface of the Proxmox VE API simulator (a test and development tool, not used in production).
export { PveSim, startPveSim, type PveSimOptions } from './server.js';
export type { SimOptions, RequestRecord, LoginRecord } from './core.js';
export { SimClock } from './clock.js';
export { parseSeed, loadSeedFile, type Seed, type SeedInput } from './seed.js';
export { generateCertificates, type TestCertificates } from './self-signed.js';
export { loadSchema, listOperations, DEFAULT_SCHEMA_FILE } from './schema.js';
export { validateParams } from './validator.js';
export { CONTENT_TYPE } from './http.js';
export { totpCode } from './totp.js';
