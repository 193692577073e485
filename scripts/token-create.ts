import { parseArgs } from "node:util";
import { openAppDatabase } from "@/db";
import { API_TOKEN_SCOPES, type ApiTokenScope } from "@/db/schema";
import { createApiToken, expiryDaysSchema, tokenNameSchema, tokenScopesSchema } from "@/lib/api/tokens";
import { shellOperator } from "@/lib/users/queries";
import { runCli, UsageError } from "./cli";

const USAGE = `Usage: npm run token:create -- --name NAME [--expires-days N] [--scope ${API_TOKEN_SCOPES.join("|")}]… (default scope: logs:read)`;

/** Makes an API token for automation; the last line printed is the token, shown this once. */
runCli(async () => {
  let options;
  try {
    ({ values: options } = parseArgs({ options: { name: { type: "string" }, "expires-days": { type: "string" }, scope: { type: "string", multiple: true } } }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const name = tokenNameSchema.safeParse(options.name ?? "");
  if (!name.success) throw new UsageError(`${name.error.issues[0]!.message}\n${USAGE}`);
  const days = expiryDaysSchema.safeParse(options["expires-days"]);
  if (!days.success) throw new UsageError(`${days.error.issues[0]!.message}\n${USAGE}`);
  const scopes = tokenScopesSchema.safeParse(options.scope ?? ["logs:read"]);
  if (!scopes.success) throw new UsageError(`${scopes.error.issues[0]!.message}\n${USAGE}`);
  // Opened once the arguments are known good: a typo is named without a database.
  await openAppDatabase();
  const operator = shellOperator();
  const { token, summary } = await createApiToken({
    actor: { userId: null, username: operator, via: "command line" },
    context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
    name: name.data,
    scopes: scopes.data as ApiTokenScope[],
    expiresInDays: days.data,
  });
  const expiry = summary.expiresAt ? `expires ${summary.expiresAt.toISOString()}` : "does not expire";
  console.log(`Created API token "${summary.name}" (${summary.hint}…, ${summary.scopes.join(", ")}, ${expiry}); logged as api_token_created by ${operator}. It is shown once:`);
  console.log(token);
}, { database: false });
