import {
  Observable,
  Subscriber,
  type Observer,
  type Operator,
  type Subscription,
  type TeardownLogic,
} from 'rxjs';

/** Reports an error of a subscriber; must not throw. */
export type SubscriberErrorReporter = (error: unknown) => void;

/**
 * The stream of `changes()`: a subscriber that throws (in `next`, `error` or `complete`), and an
 * error reaching a subscriber without an error callback (an operator that threw), are reported
 * instead of being re-thrown by rxjs from a timer, which would crash the process, and with it each
 * replica in turn as it takes over. Operators piped from it keep this (they are lifted onto the same
 * class); a stream combined with others (`merge`, `combineLatest`, ...) is the app's own.
 */
export class LeaderChanges<T> extends Observable<T> {
  constructor(
    private readonly report: SubscriberErrorReporter,
    subscribe?: (this: Observable<T>, subscriber: Subscriber<T>) => TeardownLogic,
  ) {
    super(subscribe);
  }

  /** Keeps piped operators on this class (rxjs 7 builds each operator's stream through `lift`). */
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new LeaderChanges<R>(this.report);
    (lifted as unknown as { source: Observable<T> }).source = this;
    (lifted as unknown as { operator?: Operator<T, R> }).operator = operator;
    return lifted;
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((error: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    // Operators and rxjs helpers subscribe with a Subscriber: they handle errors themselves.
    if (isSubscriber(observerOrNext)) return super.subscribe(observerOrNext);
    const observer: Partial<Observer<T>> =
      typeof observerOrNext === 'function' || observerOrNext == null
        ? {
            next: observerOrNext ?? undefined,
            error: error ?? undefined,
            complete: complete ?? undefined,
          }
        : observerOrNext;
    const guarded = <A extends unknown[]>(call: (...args: A) => void) => {
      return (...args: A) => {
        try {
          call(...args);
        } catch (thrown) {
          this.report(thrown);
        }
      };
    };
    return super.subscribe({
      next: guarded((value: T) => observer.next?.(value)),
      error: guarded((reason: unknown) => {
        if (observer.error) observer.error(reason);
        else this.report(reason);
      }),
      complete: guarded(() => observer.complete?.()),
    });
  }
}

function isSubscriber(value: unknown): value is Subscriber<unknown> {
  if (value instanceof Subscriber) return true;
  const candidate = value as Partial<Subscriber<unknown>> | null | undefined;
  return (
    !!candidate &&
    typeof candidate.next === 'function' &&
    typeof candidate.error === 'function' &&
    typeof candidate.complete === 'function' &&
    typeof candidate.unsubscribe === 'function' &&
    typeof candidate.add === 'function'
  );
}
