/**
 * The window, clipboard and progress APIs commands use, in VS Code's own shapes but
 * without importing `vscode`, so command logic runs under plain mocha with a fake.
 * vscodeUi.ts is the one adapter.
 */
import { Cancelled } from '../app/problems';

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  picked?: boolean;
  value: T;
}

export interface PickOptions {
  title?: string;
  placeHolder?: string;
}

export interface InputOptions {
  title?: string;
  prompt?: string;
  placeHolder?: string;
  value?: string;
  password?: boolean;
  /** Returns a message when the value is not acceptable. */
  validate?: (value: string) => string | undefined;
}

export interface ProgressReport {
  message?: string;
  /** Percentage points to add (VS Code's `increment`). */
  increment?: number;
}

export interface Ui {
  pick<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T | undefined>;
  pickMany<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T[] | undefined>;
  input(options: InputOptions): Promise<string | undefined>;
  info(message: string, ...actions: string[]): Promise<string | undefined>;
  warn(message: string, options: { modal?: boolean; detail?: string }, ...actions: string[]): Promise<string | undefined>;
  error(message: string, ...actions: string[]): Promise<string | undefined>;
  copy(text: string): Promise<void>;
  /** A short message in the status bar that clears itself: feedback that needs no answer. */
  notice(message: string): void;
  pickFile(options: { title: string; filters?: Record<string, string[]> }): Promise<string | undefined>;
  /** Runs `task` under a notification; the signal aborts when the person cancels. */
  withProgress<T>(title: string, cancellable: boolean, task: (report: (r: ProgressReport) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
  openDocument(uri: string, language?: string): Promise<void>;
  /** Adds a folder (any URI scheme) to the workspace, so the explorer shows it. */
  addWorkspaceFolder(uri: string, name: string): Promise<void>;
  /** Reveals a folder in the OS file manager; false where there is none (a remote window). */
  revealFolder(path: string): Promise<boolean>;
}

/** Longest copied text repeated in the feedback; the status bar is one short line. */
const MAX_ECHO_CHARS = 100;

/**
 * Copies `text` and says so, naming `what` was copied and the text itself, digests shortened the way
 * the tree shows them (the status bar is one short line; the clipboard has it all).
 */
export async function copyAndSay(ui: Ui, text: string, what: string): Promise<void> {
  await ui.copy(text);
  const short = text.replace(/\b(sha256:[0-9a-f]{12})[0-9a-f]{52}\b/g, '$1…');
  const echo = short.includes('\n') ? '' : short.length > MAX_ECHO_CHARS ? `${short.slice(0, MAX_ECHO_CHARS - 1)}…` : short;
  ui.notice(echo ? `Copied ${what}: ${echo}` : `Copied ${what}`);
}

/** Asks and throws `Cancelled` when dismissed, so flows read top to bottom. */
export async function required<T>(answer: Promise<T | undefined>): Promise<T> {
  const v = await answer;
  if (v === undefined) {
    throw new Cancelled();
  }
  return v;
}
