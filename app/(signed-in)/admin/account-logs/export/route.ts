import { headers } from "next/headers";
import type { NextRequest } from "next/server";
import { z } from "zod";
import { getDb } from "@/db";
import { recordAccessDenied } from "@/lib/account-log/access-denied";
import { FILTER_PARAMS, readFilters } from "@/lib/account-log/filters";
import { EXPORT_FORMATS, exportChunks, exportFilterOf, recordExport } from "@/lib/audit/export";
import { getCurrentUser } from "@/lib/auth/session";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";

export const dynamic = "force-dynamic";

const CONTENT_TYPES = { csv: "text/csv; charset=utf-8", ndjson: "application/x-ndjson; charset=utf-8" } as const;
const formatParam = z.enum(EXPORT_FORMATS);

function plain(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}

/**
 * `GET /admin/account-logs/export?format=csv|ndjson&` and the page's filters (`filters.ts`): every
 * row of the search and filters, newest first, streamed from the database a batch at a time, with the chain evidence. Admins only; the
 * export is itself logged before the first byte.
 */
export async function GET(request: NextRequest): Promise<Response> {
  // A link on another site must not make an admin's browser export (and log an export): the
  // browser says where a navigation came from, and only this site's pages or a typed URL count.
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return plain(403, "Exports start from this site's own pages.");
  // Route handlers get no layout: the role is checked here, against the database.
  const context = requestContextFromHeaders(await headers());
  const user = await getCurrentUser();
  if (user?.role !== "admin") {
    await recordAccessDenied({ user, resource: "account log export", context }).catch((error) =>
      logServerError("access denial could not be logged", error),
    );
    return user ? plain(403, "Only administrators can export the account log.") : plain(401, "Sign in to export the account log.");
  }

  const params = request.nextUrl.searchParams;
  const format = formatParam.safeParse(params.get("format") ?? "csv");
  if (!format.success) return plain(400, `format must be one of: ${EXPORT_FORMATS.join(", ")}.`);
  const { filters: query, problems } = readFilters(
    Object.fromEntries(FILTER_PARAMS.map(({ name, repeated }) => [name, repeated ? params.getAll(name) : (params.get(name) ?? undefined)])),
  );
  // An export must select exactly what was asked for: a filter that was not understood is refused.
  if (problems.length) return plain(400, problems.join(" "));
  const filter = exportFilterOf(query);

  const db = await getDb();
  let start;
  try {
    start = await recordExport(db, { admin: user, context, filter, format: format.data });
  } catch (error) {
    logServerError("export could not be logged", error, { adminId: user.id });
    return plain(503, "The export could not be recorded in the log, so it was not started. Try again in a moment.");
  }

  const chunks = exportChunks(db, { filter, format: format.data, ...start });
  const encoder = new TextEncoder();
  // Pulled one batch at a time: a slow download holds the next query back, not memory.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        logServerError("export failed while streaming", error, { adminId: user.id });
        // Cut short, the file lacks its trailer, and its check says it is incomplete.
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  const stamp = start.exportedAt.toISOString().replace(/[:.]/g, "-");
  return new Response(body, {
    headers: {
      "Content-Type": CONTENT_TYPES[format.data],
      "Content-Disposition": `attachment; filename="account-logs-${stamp}-head-${start.head.id}.${format.data === "csv" ? "csv" : "ndjson"}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "X-Chain-Head": `${start.head.id} ${start.head.hash}`,
      "X-Chain-Seq": String(start.head.seq),
    },
  });
}
