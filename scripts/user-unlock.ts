import { parseArgs } from "node:util";
import { COMMAND_LINE_UNLOCK_REASON } from "@/lib/account-log/reason";
import { unlockAccountFromCommandLine } from "@/lib/account-log/unlock";
import { shellOperator } from "@/lib/users/queries";
import { runCli, UsageError } from "./cli";

const USAGE = `Usage: npm run user:unlock -- --username NAME [--reason TEXT] (default reason: "${COMMAND_LINE_UNLOCK_REASON}")`;

// Break glass: unlocks an account without the admin page, for when every admin is locked out.
runCli(async () => {
  let options;
  try {
    ({ values: options } = parseArgs({ options: { username: { type: "string" }, reason: { type: "string" } } }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!options.username) throw new UsageError(`--username is required.\n${USAGE}`);
  const operator = shellOperator();
  const outcome = await unlockAccountFromCommandLine({ username: options.username, operator, reason: options.reason });
  if (outcome.status === "not_found") throw new UsageError(`No user named "${options.username}".`);
  console.log(
    outcome.status === "unlocked"
      ? `Unlocked "${outcome.username}" (logged as account_unlocked by ${operator}, command line).`
      : `"${outcome.username}" is not locked; nothing changed.`,
  );
});
