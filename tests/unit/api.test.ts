import { describe, expect, it } from "vitest";
import { ACCOUNT_LOG_RESULTS } from "@/db/schema";
import { apiRow, cefLine, ecsDocument, OCSF_CLASSES, ocsfEvent, outcomeOf } from "@/lib/api/formats";
import { octetCounted, syslogHostname, syslogMessage } from "@/lib/streams/syslog";
import { bearerToken, parseApiQuery } from "@/lib/api/log-endpoint";
import { takeFromBucket } from "@/lib/api/refusals";

const chainRow = (result: string, metadata: object = {}) => ({
  id: 41,
  seq: 40,
  occurredAt: "2026-11-30T08:00:00.000000Z",
  username: "alice",
  usernameTruncated: false,
  usernameNormalized: "alice",
  userId: 7,
  result,
  ip: "203.0.113.5",
  metadata: JSON.stringify(metadata),
  prevHash: "00".repeat(32),
  hash: "11".repeat(32),
});

describe("the per-token bucket", () => {
  it("lets a burst through, refuses the next with the seconds to wait, and refills with time", () => {
    let bucket: Parameters<typeof takeFromBucket>[0];
    const rate = { perSecond: 2, burst: 3 };
    for (let i = 0; i < 3; i++) {
      const taken = takeFromBucket(bucket, 0, rate);
      expect(taken.allowed).toBe(true);
      bucket = taken.bucket;
    }
    const refused = takeFromBucket(bucket, 0, rate);
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(takeFromBucket(refused.bucket, 499, rate).allowed).toBe(false);
    expect(takeFromBucket(refused.bucket, 500, rate).allowed).toBe(true);
    // Never more than the burst, however long the pause.
    let idle = takeFromBucket(refused.bucket, 3_600_000, rate).bucket;
    expect(idle.tokens).toBe(2);
    idle = takeFromBucket(idle, 3_600_000, rate).bucket;
    idle = takeFromBucket(idle, 3_600_000, rate).bucket;
    expect(takeFromBucket(idle, 3_600_000, rate).allowed).toBe(false);
  });
});

describe("the API's request", () => {
  it("reads a bearer token, and tells a missing header from a malformed one", () => {
    expect(bearerToken(null)).toBeUndefined();
    expect(bearerToken("  ")).toBeUndefined();
    expect(bearerToken("Bearer alog_abc")).toBe("alog_abc");
    expect(bearerToken("bearer   alog_abc ")).toBe("alog_abc");
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken(`Bearer ${"a".repeat(600)}`)).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
  });

  it("takes paging, format and the page's filters, and names every problem instead of ignoring it", () => {
    const parsed = parseApiQuery(new URLSearchParams("after=10&limit=500&format=ocsf&q=%25_%5C&result=logout&result=login_successful&country=DE"));
    expect(parsed).toMatchObject({ query: { after: 10, limit: 500, format: "ocsf", filters: { q: "%_\\", results: ["login_successful", "logout"] } } });
    expect(parseApiQuery(new URLSearchParams(""))).toMatchObject({ query: { after: 0, limit: 100, format: "json" } });
    const bad = parseApiQuery(new URLSearchParams(`limit=x&from=yesterday&q=${"a".repeat(3000)}&password=hunter2`));
    expect(bad).toEqual({ problems: ['unknown parameter "password"', "q is longer than 2048 characters"] });
    const worse = parseApiQuery(new URLSearchParams("limit=x&from=yesterday&country=XX"));
    expect("problems" in worse && worse.problems).toEqual([
      "limit must be a whole number",
      '"from" must be an ISO 8601 time from 1970 to 9999, such as 2026-11-26T09:30:00Z',
      '"XX" is not an ISO 3166 country code such as DE, or !DE to exclude one',
    ]);
  });
});

describe("the API's row formats", () => {
  it("gives every result an OCSF class and an outcome", () => {
    for (const result of ACCOUNT_LOG_RESULTS) {
      const event = ocsfEvent(apiRow(chainRow(result)));
      expect(event.class_uid, result).toBe(OCSF_CLASSES[result].class_uid);
      expect(event.type_uid).toBe(OCSF_CLASSES[result].class_uid * 100 + OCSF_CLASSES[result].activity_id);
      expect(event.status_id).toBe(outcomeOf(result) === "success" ? 1 : 2);
    }
    expect(OCSF_CLASSES.login_failed_wrong_password).toMatchObject({ class_uid: 3002, activity_id: 1 });
    expect(OCSF_CLASSES.logout).toMatchObject({ class_uid: 3002, activity_id: 2 });
    expect(OCSF_CLASSES.account_locked).toMatchObject({ class_uid: 3001, activity_id: 9 });
    // API Activity names who asked as its actor, and what was asked, with no `user`.
    const exported = ocsfEvent(apiRow(chainRow("logs_exported")));
    expect(exported).toMatchObject({ class_uid: 6003, actor: { user: { name: "alice", uid: "7" } }, api: { operation: "export account log" } });
    expect(exported).not.toHaveProperty("user");
    expect(ecsDocument(apiRow(chainRow("api_token_revoked")))).toMatchObject({ ecs: { version: "8.11.0" }, event: { category: ["iam"], type: ["deletion"] } });
  });

  it("maps the client, the place and the chain into OCSF and ECS", () => {
    const row = apiRow(
      chainRow("login_failed_wrong_password", {
        browser: { name: "Chrome", version: "131" },
        os: { name: "Windows", version: "11" },
        userAgent: { value: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", length: 40, truncated: false },
        location: { country: "DE" },
      }),
    );
    expect(row).toMatchObject({ country: "DE", browser: { name: "Chrome", version: "131" }, os: { name: "Windows", version: "11" }, user_id: 7 });
    expect(ocsfEvent(row)).toMatchObject({
      time: Date.parse("2026-11-30T08:00:00Z"),
      status: "Failure",
      severity_id: 2,
      src_endpoint: { ip: "203.0.113.5", location: { country: "DE" } },
      http_request: { user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" },
      metadata: { uid: "41", sequence: 40, product: { name: "Account Logs" } },
      unmapped: { hash: "11".repeat(32), prev_hash: "00".repeat(32), browser: "Chrome 131" },
    });
    expect(ecsDocument(row)).toMatchObject({
      "@timestamp": "2026-11-30T08:00:00.000000Z",
      event: { category: ["authentication"], outcome: "failure", action: "login_failed_wrong_password", sequence: 40 },
      source: { ip: "203.0.113.5", geo: { country_iso_code: "DE" } },
      user_agent: { name: "Chrome", version: "131", os: { name: "Windows", version: "11" } },
      labels: { seq: "40" },
    });
  });
});

describe("CEF and syslog", () => {
  it("writes a CEF line with its header and extension escaped, the actor as source user of an admin event", () => {
    const row = apiRow({ ...chainRow("login_failed_wrong_password", { userAgent: { value: "curl/8 a=b\\c", length: 12, truncated: false } }), username: "eve|x=y\nz" });
    expect(cefLine(row)).toBe(
      "CEF:0|Account Logs|Account Logs|1|login_failed_wrong_password|Authentication: Logon|3|" +
        `rt=${Date.parse("2026-11-30T08:00:00Z")} suser=eve|x\\=y\\nz suid=7 src=203.0.113.5 outcome=failure cat=Authentication act=login_failed_wrong_password externalId=41 ` +
        `cn1=40 cn1Label=seq cs2=${"11".repeat(32)} cs2Label=hash cs3=${"00".repeat(32)} cs3Label=prev_hash requestClientApplication=curl/8 a\\=b\\\\c`,
    );
    const unlock = cefLine(apiRow({ ...chainRow("account_unlocked", { actor: { userId: 1, username: "root" } }), ip: "2001:db8::1" }));
    expect(unlock).toContain("|account_unlocked|Account Change: Unlock|1|");
    expect(unlock).toContain("suser=root suid=1 duser=alice duid=7 c6a2=2001:db8::1 c6a2Label=Source IPv6 Address outcome=success");
  });

  it("frames a row as RFC 5424, octet-counted, with the seq as sequenceId while it fits", () => {
    const row = apiRow(chainRow("account_locked"));
    const message = syslogMessage(row, "json", "app-1");
    expect(message).toBe(`<84>1 2026-11-30T08:00:00.000000Z app-1 account-logs - account_locked [meta sequenceId="40"] \uFEFF${JSON.stringify(row)}`);
    expect(syslogMessage({ ...row, seq: 2 ** 31 }, "cef", "app-1")).toMatch(/^<84>1 \S+ app-1 account-logs - account_locked - \uFEFFCEF:0\|/);
    const framed = octetCounted("<86>1 - - - - - - é");
    expect(framed.toString("utf8")).toBe(`${Buffer.byteLength("<86>1 - - - - - - é")} <86>1 - - - - - - é`);
    expect(syslogHostname("web 1\u00e9.example")).toBe("web1.example");
    expect(syslogHostname(" ")).toBe("-");
  });
});
