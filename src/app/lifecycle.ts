/** The shape of `vscode.Disposable`, so vscode-free code can own disposables too. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Tracks everything a service creates (listeners, emitters, timers, processes) so one
 * `dispose()` releases all of it, in reverse order of registration.
 */
export class Disposable implements DisposableLike {
  private readonly owned: DisposableLike[] = [];
  private disposed = false;

  protected register<T extends DisposableLike>(d: T): T {
    if (this.disposed) {
      d.dispose();
    } else {
      this.owned.push(d);
    }
    return d;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.owned.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // One failing dispose must not keep the others alive.
      }
    }
  }
}

export function toDisposable(fn: () => void): DisposableLike {
  return { dispose: fn };
}

/**
 * A tiny typed event emitter with the same shape as `vscode.EventEmitter`
 * (`event(listener)` returns a disposable), for vscode-free services.
 */
export class Emitter<T> implements DisposableLike {
  private listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): DisposableLike => {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch {
        // A listener's failure is its own; the others still hear the event.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
