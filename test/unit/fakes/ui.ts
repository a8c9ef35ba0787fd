/**
 * A scripted stand-in for VS Code's window prompts (QuickPick, InputBox, messages), the
 * clipboard and progress: answers are queued in order; everything shown is recorded.
 */
import type { InputOptions, PickItem, PickOptions, ProgressReport, Ui } from '../../../src/commands/ui';

export type Answer =
  | { pick: string | undefined }
  | { pickMany: string[] | undefined }
  | { input: string | undefined }
  /** A button label, or a choice made from the buttons shown (e.g. "the first one"). */
  | { button: string | undefined | ((actions: string[]) => string | undefined) };

export interface Shown {
  kind: 'pick' | 'pickMany' | 'input' | 'info' | 'warn' | 'error' | 'progress' | 'notice';
  text: string;
  items?: string[];
  options?: InputOptions | PickOptions | { modal?: boolean; detail?: string };
}

export class FakeUi implements Ui {
  readonly shown: Shown[] = [];
  readonly clipboard: string[] = [];
  readonly opened: Array<{ uri: string; language?: string }> = [];
  readonly folders: Array<{ uri: string; name: string }> = [];
  readonly progress: ProgressReport[] = [];
  /** Validation messages the input boxes produced for the answers given. */
  readonly validationErrors: string[] = [];
  revealable = true;
  file: string | undefined;

  constructor(private readonly answers: Answer[] = []) {}

  private next<K extends 'pick' | 'pickMany' | 'input' | 'button'>(kind: K, text: string): Extract<Answer, Record<K, unknown>>[K] {
    const a = this.answers.shift();
    if (!a || !(kind in a)) throw new Error(`FakeUi: "${text}" asked for a ${kind}, but the next scripted answer is ${JSON.stringify(a)}`);
    return (a as Record<K, unknown>)[kind] as Extract<Answer, Record<K, unknown>>[K];
  }

  get remaining(): number {
    return this.answers.length;
  }

  async pick<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T | undefined> {
    this.shown.push({ kind: 'pick', text: options.title ?? options.placeHolder ?? '', items: items.map((i) => i.label), options });
    const label = this.next('pick', options.title ?? '');
    if (label === undefined) return undefined;
    const item = items.find((i) => i.label === label);
    if (!item) throw new Error(`FakeUi: no item "${label}" among ${items.map((i) => i.label).join(', ')}`);
    return item.value;
  }

  async pickMany<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<T[] | undefined> {
    this.shown.push({ kind: 'pickMany', text: options.title ?? '', items: items.map((i) => i.label), options });
    const labels = this.next('pickMany', options.title ?? '');
    return labels?.map((l) => {
      const item = items.find((i) => i.label === l);
      if (!item) throw new Error(`FakeUi: no item "${l}"`);
      return item.value;
    });
  }

  async input(options: InputOptions): Promise<string | undefined> {
    this.shown.push({ kind: 'input', text: options.prompt ?? options.title ?? '', options });
    const value = this.next('input', options.prompt ?? options.title ?? '');
    if (value !== undefined && options.validate) {
      const problem = options.validate(value);
      // Like VS Code: an invalid value cannot be accepted.
      if (problem) {
        this.validationErrors.push(problem);
        throw new Error(`FakeUi: "${value}" rejected by validation: ${problem}`);
      }
    }
    return value;
  }

  private button(message: string, actions: string[]): string | undefined {
    const b = this.next('button', message);
    return typeof b === 'function' ? b(actions) : b;
  }

  async info(message: string, ...actions: string[]): Promise<string | undefined> {
    this.shown.push({ kind: 'info', text: message, items: actions });
    return actions.length ? this.button(message, actions) : undefined;
  }

  async warn(message: string, options: { modal?: boolean; detail?: string }, ...actions: string[]): Promise<string | undefined> {
    this.shown.push({ kind: 'warn', text: message, items: actions, options });
    return this.button(message, actions);
  }

  async error(message: string, ...actions: string[]): Promise<string | undefined> {
    this.shown.push({ kind: 'error', text: message, items: actions });
    return actions.length ? this.button(message, actions) : undefined;
  }

  async copy(text: string): Promise<void> {
    this.clipboard.push(text);
  }

  notice(message: string): void {
    this.shown.push({ kind: 'notice', text: message });
  }

  async pickFile(): Promise<string | undefined> {
    return this.file;
  }

  async withProgress<T>(title: string, _cancellable: boolean, task: (report: (r: ProgressReport) => void, signal: AbortSignal) => Promise<T>): Promise<T> {
    this.shown.push({ kind: 'progress', text: title });
    return task((r) => this.progress.push(r), new AbortController().signal);
  }

  async openDocument(uri: string, language?: string): Promise<void> {
    this.opened.push({ uri, ...(language ? { language } : {}) });
  }

  async addWorkspaceFolder(uri: string, name: string): Promise<void> {
    this.folders.push({ uri, name });
  }

  async revealFolder(): Promise<boolean> {
    return this.revealable;
  }

  messages(kind: Shown['kind']): string[] {
    return this.shown.filter((s) => s.kind === kind).map((s) => s.text);
  }
}
