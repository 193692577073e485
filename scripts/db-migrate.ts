import { configuredTarget, describeTarget } from "@/db";
import { runCli } from "./cli";

// runCli opens the database, which applies the pending migrations.
runCli(async () => {
  console.log(`Migrations applied to ${describeTarget(configuredTarget())}.`);
});
