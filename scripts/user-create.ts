import { parseArgs } from "node:util";
import { createUser, shellOperator } from "@/lib/users/queries";
import { readPassword } from "./read-password";
import { runCli, UsageError } from "./cli";

const USAGE = "Usage: npm run user:create -- --username NAME [--admin] [--password-stdin]";

runCli(async () => {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: {
        username: { type: "string" },
        admin: { type: "boolean", default: false },
        "password-stdin": { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!options.username) throw new UsageError(`--username is required.\n${USAGE}`);
  // Never from argv: other processes can read a command line.
  const password = await readPassword({ fromStdin: options["password-stdin"], confirm: true });
  const operator = shellOperator();
  const user = await createUser({
    username: options.username,
    password,
    role: options.admin ? "admin" : "user",
    createdBy: { username: operator, via: "command line" },
  });
  console.log(`Created ${user.role} "${user.username}" (id ${user.id}; logged as user_created by ${operator}, command line).`);
});
