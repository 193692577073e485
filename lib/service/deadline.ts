/**
 * `work`, or the error `onTimeout` makes if it has not settled within `ms`: for a wait that must
 * not hang (a database that does not answer, a lookup, a mail server). The work itself goes on;
 * its outcome is then ignored.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
