import { headers } from "next/headers";
import type { NextRequest } from "next/server";
import { getDb } from "@/db";
import { answerLogRequest } from "@/lib/api/log-endpoint";
import { requestContextFromHeaders } from "@/lib/client/request-context";

export const dynamic = "force-dynamic";

/** `GET /api/v1/account-logs`: the log for machines, with an API token (docs/integrations.md). */
export async function GET(request: NextRequest): Promise<Response> {
  const context = requestContextFromHeaders(await headers());
  return answerLogRequest(await getDb(), { url: request.nextUrl, authorization: request.headers.get("authorization"), context });
}
