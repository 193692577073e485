import { logServerError } from "@/lib/server-log";

/** Work that runs beside requests (cleanups, flushes, sealing): started and stopped by the server. */
export type BackgroundTask = { name: string; start: () => () => Promise<void> | void };

const shared = globalThis as unknown as { __accountLogsBackground?: { name: string; stop: () => Promise<void> | void }[] };

export function startBackgroundTasks(tasks: BackgroundTask[]): void {
  const running = (shared.__accountLogsBackground ??= []);
  for (const task of tasks) running.push({ name: task.name, stop: task.start() });
}

/** Stops every task, newest first; one that fails to stop is logged and the rest still stop. */
export async function stopBackgroundTasks(): Promise<void> {
  const running = shared.__accountLogsBackground ?? [];
  shared.__accountLogsBackground = [];
  for (const task of running.reverse()) {
    try {
      await task.stop();
    } catch (error) {
      logServerError("background task did not stop cleanly", error, { task: task.name });
    }
  }
}

/**
 * A loop that runs `turn` until stopped, waiting `pollMs` between turns: what the stream sender
 * and the alerts run. Its stop aborts the signal a turn is given, wakes the wait, and resolves
 * once the turn in progress has returned. A turn that throws is logged as `failure`; the loop goes on.
 */
export function startPollLoop(turn: (signal: AbortSignal) => Promise<void>, { pollMs, failure }: { pollMs: number; failure: string }): { stop: () => Promise<void> } {
  const stopping = new AbortController();
  let wake: (() => void) | undefined;
  const loop = async () => {
    while (!stopping.signal.aborted) {
      try {
        await turn(stopping.signal);
      } catch (error) {
        logServerError(failure, error);
      }
      if (stopping.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
  const running = loop();
  return {
    stop: async () => {
      stopping.abort();
      wake?.();
      await running;
    },
  };
}
