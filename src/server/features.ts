/**
 * Feature modules that plug into the server (auth, tls, proxy, notifications, metrics). Each one,
 * when imported, registers its config section (config.ts `registerConfigSection`) and its plugin
 * (hooks.ts `registerServerPlugin`). Add one import line per module here.
 */
import './limits/teamFeatures';
