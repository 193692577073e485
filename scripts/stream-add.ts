import fs from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { openAppDatabase } from "@/db";
import { STREAM_FORMATS } from "@/db/schema";
import { addWebhookStream, StreamDestinationError } from "@/lib/streams/store";
import { shellOperator } from "@/lib/users/queries";
import { runCli, UsageError } from "./cli";
import { readAllStdin } from "./read-password";

const USAGE =
  `Usage: npm run stream:add -- --type webhook --url URL [--name NAME] [--format ${STREAM_FORMATS.filter((f) => f !== "cef").join("|")}] ` +
  `[--header "Name: value"]… [--ca-file FILE] [--secret-stdin]`;

/**
 * Adds a log stream for automation (logged as stream_created). Without --secret-stdin a signing
 * secret is made; either way the last line printed is the secret, for the receiver.
 */
runCli(
  async () => {
    let options;
    try {
      ({ values: options } = parseArgs({
        options: {
          type: { type: "string" },
          url: { type: "string" },
          name: { type: "string" },
          format: { type: "string" },
          header: { type: "string", multiple: true },
          "ca-file": { type: "string" },
          "secret-stdin": { type: "boolean", default: false },
        },
      }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    if (options.type === "syslog") throw new UsageError("Syslog streams are not available yet; use --type webhook (a local shipper can forward to syslog).");
    if (options.type !== "webhook") throw new UsageError(`--type webhook is required.\n${USAGE}`);
    if (!options.url) throw new UsageError(`--url is required.\n${USAGE}`);
    let ca: string | undefined;
    if (options["ca-file"]) {
      try {
        ca = fs.readFileSync(options["ca-file"], "utf8");
      } catch (error) {
        throw new UsageError(`Cannot read --ca-file: ${(error as Error).message}`);
      }
    }
    const secret = options["secret-stdin"] ? (await readAllStdin()).trim() : undefined;
    await openAppDatabase();
    const operator = shellOperator();
    let added;
    try {
      added = await addWebhookStream({
        actor: { userId: null, username: operator, via: "command line" },
        context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
        input: { name: options.name ?? (URL.canParse(options.url) ? new URL(options.url).host : "webhook"), url: options.url, format: (options.format ?? "json") as "json", headers: options.header ?? [], ca, secret },
      });
    } catch (error) {
      if (error instanceof StreamDestinationError) throw new UsageError(error.message);
      if (error instanceof z.ZodError) throw new UsageError(`${error.issues[0]?.message ?? "Invalid input."}\n${USAGE}`);
      throw error;
    }
    console.log(`Added webhook stream ${added.id} to ${options.url}; it sends rows sealed from now on (logged as stream_created by ${operator}). Its signing secret:`);
    console.log(added.secret);
  },
  { database: false },
);
