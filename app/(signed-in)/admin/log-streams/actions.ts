"use server";

import { z } from "zod";
import { getDb } from "@/db";
import { ALERT_EVENTS, STREAM_FORMATS, type AlertEvent } from "@/db/schema";
import { adminAction } from "@/lib/actions/action";
import { formId } from "@/lib/actions/form";
import type { ActionState, AlertRuleFormField, ReplayFormField, StreamFormField } from "@/lib/actions/state";
import { addAlertRule, removeAlertRule, setAlertRuleEnabled } from "@/lib/alerts/rules";
import { parseInstant } from "@/lib/account-log/search-params";
import { sendTestEvent } from "@/lib/streams/sender";
import { addSyslogStream, addWebhookStream, removeStream, replayStream, setStreamEnabled, streamNameSchema, StreamDestinationError } from "@/lib/streams/store";

const STREAMS = {
  refusal: "Only administrators can manage log streams.",
  revalidate: ["/admin/log-streams", "/admin/account-logs"],
} as const;

const streamId = z.object({ streamId: formId("That is not a valid stream.") });
const actorOf = (admin: { id: number; username: string }) => ({ userId: admin.id, username: admin.username, via: "admin page" as const });
const GONE: ActionState = { status: "error", message: "That stream no longer exists." };

export const addStreamAction = adminAction(
  {
    ...STREAMS,
    fields: ["name", "url", "format", "headers", "ca"] as const satisfies readonly StreamFormField[],
    name: "add log stream action",
    schema: z.object({
      name: streamNameSchema,
      url: z.string().trim().min(1, "Give the receiver's URL.").max(2048, "A URL has at most 2,048 characters."),
      format: z.enum(STREAM_FORMATS.filter((format) => format !== "cef") as ["json", "ocsf", "ecs"], { error: "Choose json, ocsf or ecs." }),
      headers: z.string().max(32 * 1024, "Headers are at most 32 KB."),
      ca: z.string().max(64 * 1024, "A certificate file is at most 64 KB."),
    }),
    keep: ["name", "url", "headers"],
    failure: "The stream could not be added. Try again.",
  },
  async ({ name, url, format, headers, ca }, request): Promise<ActionState<StreamFormField>> => {
    try {
      const added = await addWebhookStream({
        actor: actorOf(request.admin),
        context: request.context,
        input: { name, url, format, headers: headers.split(/\r?\n/), ca: ca.trim() || undefined },
      });
      return { status: "done", message: `Added the stream “${name}”. Give its signing secret to the receiver: it is shown this once.`, reveal: added.secret };
    } catch (error) {
      if (error instanceof StreamDestinationError) return { status: "error", message: error.message, field: "url" };
      if (error instanceof z.ZodError) {
        const issue = error.issues[0];
        const field = issue?.path[0] === "headers" || issue?.path[0] === "ca" ? issue.path[0] : undefined;
        return { status: "error", message: issue?.message ?? "The stream could not be added.", ...(field && { field }) };
      }
      throw error;
    }
  },
);

export const addSyslogAction = adminAction(
  {
    ...STREAMS,
    fields: ["name", "url", "format", "ca", "clientCert", "clientKey"] as const satisfies readonly StreamFormField[],
    name: "add syslog stream action",
    schema: z.object({
      name: streamNameSchema,
      url: z.string().trim().min(1, "Give the receiver's URL, such as tls://syslog.example.com:6514.").max(2048, "A URL has at most 2,048 characters."),
      format: z.enum(STREAM_FORMATS, { error: "Choose cef, json, ocsf or ecs." }),
      ca: z.string().max(64 * 1024, "A certificate file is at most 64 KB."),
      clientCert: z.string().max(64 * 1024, "A certificate file is at most 64 KB."),
      clientKey: z.string().max(64 * 1024, "A key file is at most 64 KB."),
    }),
    // The client key is never sent back to the form.
    keep: ["name", "url"],
    failure: "The stream could not be added. Try again.",
  },
  async ({ name, url, format, ca, clientCert, clientKey }, request): Promise<ActionState<StreamFormField>> => {
    try {
      await addSyslogStream({
        actor: actorOf(request.admin),
        context: request.context,
        input: { name, url, format, ca: ca.trim() || undefined, clientCert: clientCert.trim() || undefined, clientKey: clientKey.trim() || undefined },
      });
      return { status: "done", message: `Added the stream “${name}”.` };
    } catch (error) {
      if (error instanceof StreamDestinationError) return { status: "error", message: error.message, field: "url" };
      if (error instanceof z.ZodError) {
        const issue = error.issues[0];
        const field = (["ca", "clientCert", "clientKey", "url"] as const).find((name) => issue?.path[0] === name);
        return { status: "error", message: issue?.message ?? "The stream could not be added.", ...(field && { field }) };
      }
      throw error;
    }
  },
);

export const testStreamAction = adminAction(
  { ...STREAMS, fields: [], name: "test log stream action", schema: streamId, failure: "The test event could not be sent. Try again." },
  async ({ streamId: id }): Promise<ActionState> => {
    const outcome = await sendTestEvent(await getDb(), id);
    if (!outcome) return GONE;
    return outcome.ok
      ? { status: "done", message: outcome.status ? `The receiver accepted the test event (HTTP ${outcome.status}).` : "The receiver took the test event and closed the connection." }
      : { status: "error", message: `The test event failed: ${outcome.error}` };
  },
);

export const replayStreamAction = adminAction(
  {
    ...STREAMS,
    fields: ["from"] as const satisfies readonly ReplayFormField[],
    name: "replay log stream action",
    schema: streamId.extend({ from: z.string().trim().min(1, "Give a position (seq) or a time to replay from.").max(64, "Give a position (seq) or a time to replay from.") }),
    failure: "The replay could not be started. Try again.",
  },
  async ({ streamId: id, from }, request): Promise<ActionState<ReplayFormField>> => {
    let start: { seq: number } | { time: Date };
    if (/^\d{1,15}$/.test(from)) start = { seq: Number(from) };
    else {
      const time = parseInstant(from);
      if (!time) return { status: "error", message: "Give a position (seq), or a time such as 2026-11-30T08:00:00Z.", field: "from" };
      start = { time };
    }
    const outcome = await replayStream({ actor: actorOf(request.admin), context: request.context, streamId: id, from: start });
    if (outcome.status === "not_found") return GONE;
    if (outcome.status === "nothing") return { status: "error", message: outcome.reason, field: "from" };
    return { status: "done", message: `Replaying from seq ${outcome.fromSeq.toLocaleString("en-US")}; the receiver gets those rows again.` };
  },
);

export const toggleStreamAction = adminAction(
  {
    ...STREAMS,
    fields: [],
    name: "pause log stream action",
    schema: streamId.extend({ enabled: z.enum(["true", "false"]).transform((value) => value === "true") }),
    failure: "The stream could not be changed. Try again.",
  },
  async ({ streamId: id, enabled }, request): Promise<ActionState> => {
    const outcome = await setStreamEnabled({ actor: actorOf(request.admin), context: request.context, streamId: id, enabled });
    if (outcome === "not_found") return GONE;
    return { status: "done", message: enabled ? "Resumed: the stream catches up from where it stopped." : "Paused: rows wait for it in the log." };
  },
);

export const removeStreamAction = adminAction(
  { ...STREAMS, fields: [], name: "remove log stream action", schema: streamId, failure: "The stream could not be removed. Try again." },
  async ({ streamId: id }, request): Promise<ActionState> => {
    const outcome = await removeStream({ actor: actorOf(request.admin), context: request.context, streamId: id });
    return outcome === "not_found" ? GONE : { status: "done", message: "Removed the stream." };
  },
);

const ALERTS = { refusal: "Only administrators can manage alert rules.", revalidate: ["/admin/log-streams", "/admin/account-logs"] } as const;
const ruleId = z.object({ ruleId: formId("That is not a valid alert rule.") });
const RULE_GONE: ActionState = { status: "error", message: "That alert rule no longer exists." };
const checkbox = z.string().transform((value) => value === "on");

export const addAlertRuleAction = adminAction(
  {
    ...ALERTS,
    fields: ["name", "events", "webhookUrl", "emailTo"] as const satisfies readonly AlertRuleFormField[],
    name: "add alert rule action",
    schema: z.object({
      name: streamNameSchema,
      ...Object.fromEntries(ALERT_EVENTS.map((event) => [event, checkbox])) as Record<AlertEvent, typeof checkbox>,
      webhookUrl: z.string().max(2048, "A URL has at most 2,048 characters."),
      emailTo: z.string().max(4096, "At most 20 addresses."),
    }),
    // Long values would come back cut short: only the name is put back.
    keep: ["name"],
    failure: "The alert rule could not be added. Try again.",
  },
  async (input, request): Promise<ActionState<AlertRuleFormField>> => {
    try {
      const added = await addAlertRule({
        actor: actorOf(request.admin),
        context: request.context,
        input: { name: input.name, events: ALERT_EVENTS.filter((event) => input[event]), webhookUrl: input.webhookUrl, emailTo: input.emailTo },
      });
      return {
        status: "done",
        message: added.secret ? `Added the alert rule “${input.name}”. Give its webhook signing secret to the receiver: it is shown this once.` : `Added the alert rule “${input.name}”.`,
        ...(added.secret && { reveal: added.secret }),
      };
    } catch (error) {
      if (error instanceof StreamDestinationError) return { status: "error", message: error.message, field: "webhookUrl" };
      if (error instanceof z.ZodError) {
        const issue = error.issues[0];
        const field = (["events", "webhookUrl", "emailTo"] as const).find((name) => issue?.path[0] === name);
        return { status: "error", message: issue?.message ?? "The alert rule could not be added.", ...(field && { field }) };
      }
      throw error;
    }
  },
);

export const toggleAlertRuleAction = adminAction(
  {
    ...ALERTS,
    fields: [],
    name: "pause alert rule action",
    schema: ruleId.extend({ enabled: z.enum(["true", "false"]).transform((value) => value === "true") }),
    failure: "The alert rule could not be changed. Try again.",
  },
  async ({ ruleId: id, enabled }, request): Promise<ActionState> => {
    const outcome = await setAlertRuleEnabled({ actor: actorOf(request.admin), context: request.context, ruleId: id, enabled });
    if (outcome === "not_found") return RULE_GONE;
    return { status: "done", message: enabled ? "Resumed: the rule alerts again, and its waiting alerts go out." : "Paused: no new alerts; waiting ones wait." };
  },
);

export const removeAlertRuleAction = adminAction(
  { ...ALERTS, fields: [], name: "remove alert rule action", schema: ruleId, failure: "The alert rule could not be removed. Try again." },
  async ({ ruleId: id }, request): Promise<ActionState> => {
    const outcome = await removeAlertRule({ actor: actorOf(request.admin), context: request.context, ruleId: id });
    return outcome === "not_found" ? RULE_GONE : { status: "done", message: "Removed the alert rule." };
  },
);
