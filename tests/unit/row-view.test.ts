import { describe, expect, it } from "vitest";
import type { AccountLog } from "@/db/schema";
import { logRowView, metadataDetails, NO_ROW_FLAGS } from "@/lib/account-log/row-view";

const base: AccountLog = {
  id: 42,
  occurredAt: new Date("2026-11-26T12:00:00Z"),
  username: "Alice",
  usernameNormalized: "alice",
  usernameTruncated: false,
  usernameKey: 7,
  userId: 3,
  result: "login_failed_wrong_password",
  ip: "8.8.8.8",
  metadata: { summary: "Chrome 131 · Windows 11", location: { country: "US" } },
  seq: 40,
  sealedAt: new Date("2026-11-26T12:00:00.2Z"),
  prevHash: Buffer.alloc(32),
  hash: Buffer.alloc(32),
};

describe("logRowView", () => {
  it("links the username to its exact view and places a public address in its country", () => {
    const view = logRowView(base, NO_ROW_FLAGS);
    expect(view).toMatchObject({
      id: 42,
      username: "Alice",
      href: "/admin/account-logs?q=%22alice%22",
      at: base.occurredAt,
      result: "login_failed_wrong_password",
      place: ["Located in ", "United States (US)"],
      summary: "Chrome 131 · Windows 11",
      details: [],
      marks: [],
      burst: false,
      unlockUserId: null,
    });
  });

  it("names the range of a private address, and shows nothing for no address", () => {
    // The country stored at sign-in, which the country filter selects by, even where today's
    // lookup of the address disagrees; none stored is said so.
    expect(logRowView({ ...base, metadata: { location: { country: "DE" } } }, NO_ROW_FLAGS).place).toEqual(["Located in ", "Germany (DE)"]);
    expect(logRowView({ ...base, metadata: {} }, NO_ROW_FLAGS).place).toEqual(["Located in ", "Country unknown"]);
    expect(logRowView({ ...base, ip: "10.1.2.3" }, NO_ROW_FLAGS).place).toEqual(["Range: ", "Private network"]);
    expect(logRowView({ ...base, ip: null }, NO_ROW_FLAGS).place).toBeNull();
    expect(logRowView({ ...base, metadata: {} }, NO_ROW_FLAGS).summary).toBe("—");
  });

  it("marks new places, spraying on failures only, bursts, and offers Unlock for a locked account", () => {
    const flags = { lockedUserIds: new Set([3]), sprayingIps: new Set(["8.8.8.8"]), burstUsernames: new Set(["alice"]) };
    const failure = logRowView(base, flags);
    expect(failure.marks).toEqual(["Password spraying"]);
    expect(failure.burst).toBe(true);
    expect(failure.unlockUserId).toBe(3);
    const success = logRowView({ ...base, result: "login_successful", metadata: { signals: { newIp: true, newCountry: true } } }, flags);
    expect(success.marks).toEqual(["New IP", "New country"]);
    expect(logRowView({ ...base, userId: null }, flags).unlockUserId).toBeNull();
  });
});

describe("metadataDetails", () => {
  it("lists the raw user agent, hints, forwarded headers and an admin action's particulars", () => {
    expect(
      metadataDetails({
        userAgent: { value: "Mozilla/5.0", length: 10240, truncated: true },
        clientHints: { "Sec-CH-UA-Platform": '"Windows"' },
        forwardedHeaders: { "X-Forwarded-For": "1.2.3.4" },
        actor: { userId: 1, username: "root", via: "command line" },
        reason: "user called",
        export: { format: "ndjson", filter: { q: "bob", exact: true, results: ["logout"], ip: "10.0.0.0/8" } },
      }),
    ).toEqual([
      ["User agent", "Mozilla/5.0… (10240 characters, cut)"],
      ["Sec-CH-UA-Platform", '"Windows"'],
      ["X-Forwarded-For (sent by client, untrusted)", "1.2.3.4"],
      ["By", "root (command line)"],
      ["Reason", "user called"],
      ["Exported", "JSON, username “bob”; results logout; address 10.0.0.0/8"],
    ]);
    expect(metadataDetails({ export: { format: "csv", filter: { q: "" } } })).toEqual([["Exported", "CSV, every row"]]);
  });
});
