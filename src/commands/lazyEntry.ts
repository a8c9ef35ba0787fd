/**
 * The commands bundle (dist/commands.js): every command, with the credentials layer and its YAML
 * library. extension.ts loads it on the first command, so activation and tree expansion never parse it.
 */
export { COMMANDS } from './registerCommands';
export { runCommand } from './command';
export { ImageFileBackend } from '../app/imageFileBackend';
