/**
 * The second extension bundle (dist/commands.js): every command and the registry client, with the
 * credentials layer and its YAML library. extension.ts loads it on the first command or the first
 * tree expansion, so activation parses only the views and the local registry manager.
 */
export { COMMANDS } from './registerCommands';
export { runCommand } from './command';
export { ClientRegistryApi } from './adapters/clientRegistryApi';
