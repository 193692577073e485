type ErrorSummary = { name: string; message: string; code?: string };

/**
 * One error and its causes, each as name, code and the first line of its message. The first
 * line only: query errors list their parameters after it, and those may hold secrets.
 */
export function summarizeError(error: unknown): ErrorSummary[] {
  const chain: ErrorSummary[] = [];
  let current: unknown = error;
  while (current && chain.length < 5) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      chain.push({
        name: current.name,
        message: (current.message.split("\n")[0] ?? "").slice(0, 300),
        ...(typeof code === "string" && { code }),
      });
      current = current.cause;
    } else {
      chain.push({ name: typeof current, message: String(current).split("\n")[0]!.slice(0, 300) });
      break;
    }
  }
  return chain;
}

/** A server log line: always one line of JSON, whatever the error or fields contain. */
export function logServerError(event: string, error: unknown, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ level: "error", time: new Date().toISOString(), event, ...fields, error: summarizeError(error) }));
}

export function logServerInfo(event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), event, ...fields }));
}
