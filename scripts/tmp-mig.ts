import { openDatabase } from "@/db";
async function main() {
  try { await openDatabase({ kind: "postgres", url: process.env.DATABASE_URL! }); } catch (e) { console.log(e, (e as Error).cause); }
}
main();
