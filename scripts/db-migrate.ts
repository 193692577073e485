import { configuredTarget, describeTarget, getDb } from "@/db";
import { runCli } from "./cli";

runCli(async () => {
  await getDb();
  console.log(`Migrations applied to ${describeTarget(configuredTarget())}.`);
});
