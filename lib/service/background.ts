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
