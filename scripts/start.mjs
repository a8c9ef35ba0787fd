// `npm start`: filled in with the extension (installs, builds, starts the local registry, opens VS Code).
console.error('npm start: not available yet');
process.exit(1);
