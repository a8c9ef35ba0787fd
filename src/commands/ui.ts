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
  pickFile(options: { title: string; filters?: Record<string, string[]> }): Promise<string | undefined>;
  /** Runs `task` under a notification; the signal aborts when the person cancels. */
  withProgress<T>(title: string, cancellable: boolean, task: (report: (r: ProgressReport) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
  openDocument(uri: string, language?: string): Promise<void>;
  /** Adds a folder (any URI scheme) to the workspace, so the explorer shows it. */
  addWorkspaceFolder(uri: string, name: string): Promise<void>;
  /** Reveals a folder in the OS file manager; false where there is none (a remote window). */
  revealFolder(path: string): Promise<boolean>;
}

/** Asks and throws `Cancelled` when dismissed, so flows read top to bottom. */
export async function required<T>(answer: Promise<T | undefined>): Promise<T> {
  const v = await answer;
  if (v === undefined) {
    throw new Cancelled();
  }
  return v;
}
