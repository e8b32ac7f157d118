/**
 * What the CLI's in-process engine needs (cli/engine.ts), in one module so it loads with one dynamic import: only
 * commands that run KCL pay for the engine's modules.
 */
export { armCrashGuard, callEngine, loadEngine } from '../fn/engine/native.js';
export { engineVersion, overrideFile } from '../fn/engine/engine.js';
export { render } from '../fn/render.js';
