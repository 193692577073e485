import type { Page } from "@playwright/test";

/** A server action's request as a browser sent it: the action's id, its encoding and its body. */
export type CapturedAction = { headers: Record<string, string>; body: Buffer };

/**
 * Submits a real form in the browser and keeps the server action it posts, without letting it
 * reach the server: what an attacker who saw one request could replay.
 */
export async function captureAction(page: Page, urlGlob: string, submit: () => Promise<void>): Promise<CapturedAction> {
  let captured: CapturedAction | undefined;
  await page.route(urlGlob, async (route) => {
    const request = route.request();
    if (request.method() !== "POST") return route.continue();
    captured = { headers: request.headers(), body: request.postDataBuffer()! };
    await route.abort();
  });
  await submit();
  const deadline = Date.now() + 10_000;
  while (!captured && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await page.unroute(urlGlob);
  if (!captured) throw new Error(`No server action was posted to ${urlGlob}.`);
  return captured;
}

/** The headers that replay a captured action, with the replayer's own (cookie, origin) on top. */
export function replayHeaders(action: CapturedAction, own: Record<string, string> = {}): Record<string, string> {
  return {
    "next-action": action.headers["next-action"]!,
    "content-type": action.headers["content-type"]!,
    accept: "text/x-component",
    ...own,
  };
}
