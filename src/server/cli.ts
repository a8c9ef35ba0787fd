// The registry CLI entry point (bundled to dist/registry.js).
console.error('berth-registry: not implemented yet');
process.exit(2);
