import fs from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { openAppDatabase } from "@/db";
import { STREAM_FORMATS } from "@/db/schema";
import { addSyslogStream, addWebhookStream, StreamDestinationError } from "@/lib/streams/store";
import { shellOperator } from "@/lib/users/queries";
import { runCli, UsageError } from "./cli";
import { readAllStdin } from "./read-password";

const USAGE =
  `Usage: npm run stream:add -- --type webhook --url URL [--name NAME] [--format ${STREAM_FORMATS.filter((f) => f !== "cef").join("|")}] ` +
  `[--header "Name: value"]… [--ca-file FILE] [--secret-stdin]\n` +
  `       npm run stream:add -- --type syslog --url tls://HOST[:6514]|tcp://HOST[:514] [--name NAME] [--format ${STREAM_FORMATS.join("|")}] ` +
  `[--ca-file FILE] [--cert-file FILE --key-file FILE]`;

function readFileOption(option: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read --${option}: ${(error as Error).message}`);
  }
}

/**
 * Adds a log stream for automation (logged as stream_created). For a webhook, without
 * --secret-stdin a signing secret is made; either way the last line printed is the secret, for
 * the receiver. A syslog stream has no secret: TLS, and optionally a client certificate.
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
          "cert-file": { type: "string" },
          "key-file": { type: "string" },
          "secret-stdin": { type: "boolean", default: false },
        },
      }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    if (options.type !== "webhook" && options.type !== "syslog") throw new UsageError(`--type webhook or --type syslog is required.\n${USAGE}`);
    if (!options.url) throw new UsageError(`--url is required.\n${USAGE}`);
    const ca = readFileOption("ca-file", options["ca-file"]);
    const actor = { userId: null, username: shellOperator(), via: "command line" as const };
    const context = { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined };
    const name = options.name ?? (URL.canParse(options.url) ? new URL(options.url).host : options.type);
    const explained = (error: unknown) => {
      if (error instanceof StreamDestinationError) return new UsageError(error.message);
      if (error instanceof z.ZodError) return new UsageError(`${error.issues[0]?.message ?? "Invalid input."}\n${USAGE}`);
      return error;
    };
    if (options.type === "syslog") {
      if (options.header?.length || options["secret-stdin"]) throw new UsageError(`--header and --secret-stdin are for webhooks.\n${USAGE}`);
      const clientCert = readFileOption("cert-file", options["cert-file"]);
      const clientKey = readFileOption("key-file", options["key-file"]);
      await openAppDatabase();
      const added = await addSyslogStream({ actor, context, input: { name, url: options.url, format: (options.format ?? "json") as "json", ca, clientCert, clientKey } }).catch((error: unknown) => {
        throw explained(error);
      });
      console.log(`Added syslog stream ${added.id} to ${options.url}; it sends rows sealed from now on (logged as stream_created by ${actor.username}).`);
      return;
    }
    const secret = options["secret-stdin"] ? (await readAllStdin()).trim() : undefined;
    await openAppDatabase();
    const added = await addWebhookStream({
      actor,
      context,
      input: { name, url: options.url, format: (options.format ?? "json") as "json", headers: options.header ?? [], ca, secret },
    }).catch((error: unknown) => {
      throw explained(error);
    });
    console.log(`Added webhook stream ${added.id} to ${options.url}; it sends rows sealed from now on (logged as stream_created by ${actor.username}). Its signing secret:`);
    console.log(added.secret);
  },
  { database: false },
);
