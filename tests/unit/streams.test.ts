import { describe, expect, it } from "vitest";
import { addressKind, checkWebhookDestination, displayUrl } from "@/lib/streams/destination";
import { mailTransportOptions } from "@/lib/alerts/send";
import { retryDelayMs } from "@/lib/streams/sender";
import { headerLinesSchema } from "@/lib/streams/store";
import { isWebhookSecret, newWebhookSecret, webhookSignature, webhookSignatureHolds } from "@/lib/streams/webhook";

const resolvingTo = (...addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

describe("a webhook's signature", () => {
  it("is the Standard Webhooks one: the specification's own example", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const signature = webhookSignature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    expect(webhookSignatureHolds(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}', `v1,bm9wZQ== ${signature}`)).toBe(true);
    expect(webhookSignatureHolds(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, '{"test": 2432232314}', signature)).toBe(false);
  });

  it("makes secrets of 32 random bytes, and recognises only well-formed ones", () => {
    const secret = newWebhookSecret();
    expect(isWebhookSecret(secret)).toBe(true);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
    for (const bad of ["", "whsec_", "whsec_short", "sk_live_abcdefghijklmnopqrstuvwxyz0123456789", "whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]) expect(isWebhookSecret(bad), bad).toBe(false);
  });
});

describe("a webhook's destination", () => {
  it("classifies addresses, IPv4-mapped ones as their IPv4 address", () => {
    expect(addressKind("127.0.0.1")).toBe("loopback");
    expect(addressKind("::1")).toBe("loopback");
    expect(addressKind("169.254.169.254")).toBe("metadata");
    expect(addressKind("::ffff:169.254.169.254")).toBe("metadata");
    expect(addressKind("fd00:ec2::254")).toBe("metadata");
    expect(addressKind("169.254.10.1")).toBe("link-local");
    expect(addressKind("fe80::1")).toBe("link-local");
    expect(addressKind("10.1.2.3")).toBe("private");
    expect(addressKind("::ffff:192.168.1.1")).toBe("private");
    expect(addressKind("fd12::1")).toBe("private");
    expect(addressKind("100.64.0.1")).toBe("private");
    expect(addressKind("0.0.0.0")).toBe("unroutable");
    expect(addressKind("239.1.1.1")).toBe("unroutable");
    expect(addressKind("203.0.113.10")).toBe("public");
    // IPv6 forms that reach an IPv4 address are judged as that address.
    expect(addressKind("64:ff9b::a00:5")).toBe("private");
    expect(addressKind("64:ff9b::169.254.169.254")).toBe("metadata");
    expect(addressKind("::10.0.0.1")).toBe("private");
    expect(addressKind("2002:a9fe:a9fe::1")).toBe("metadata");
    expect(addressKind("2002:cb00:710a::1")).toBe("public");
    expect(addressKind("fec0::1")).toBe("private");
    expect(addressKind("168.63.129.16")).toBe("metadata");
    expect(addressKind("fd20:ce::254")).toBe("metadata");
    expect(addressKind("2001:db8::1")).toBe("public");
  });

  it("refuses, after DNS, metadata and link-local always, private without the setting, plain HTTP off this machine, and credentials in the URL", async () => {
    const check = (url: string, addresses: string[], allowPrivate = false) => checkWebhookDestination(url, { allowPrivate, resolve: resolvingTo(...addresses) });
    await expect(check("https://hooks.example.com/in", ["203.0.113.10"])).resolves.toMatchObject({ addresses: [{ address: "203.0.113.10", family: 4 }] });
    await expect(check("http://shipper.local:8080/in", ["127.0.0.1", "::1"])).resolves.toMatchObject({ addresses: [{ address: "127.0.0.1" }, { address: "::1", family: 6 }] });
    await expect(check("https://metadata.example/", ["169.254.169.254"], true)).rejects.toThrow("a metadata address: never a destination");
    await expect(check("https://rebind.example/", ["203.0.113.10", "169.254.1.1"], true)).rejects.toThrow("link-local");
    await expect(check("https://inside.example/", ["10.0.0.5"])).rejects.toThrow("set STREAM_ALLOW_PRIVATE=true");
    await expect(check("https://inside.example/", ["10.0.0.5"], true)).resolves.toMatchObject({ addresses: [{ address: "10.0.0.5" }] });
    await expect(check("http://hooks.example.com/in", ["203.0.113.10"])).rejects.toThrow("Plain HTTP goes to this machine only");
    await expect(check("https://user:pass@hooks.example.com/", ["203.0.113.10"])).rejects.toThrow("not in the URL");
    await expect(check("ftp://hooks.example.com/", ["203.0.113.10"])).rejects.toThrow("starts with https://");
    await expect(check("not a url", [])).rejects.toThrow("not a valid absolute URL");
    await expect(check("https://[::ffff:169.254.169.254]/", [])).rejects.toThrow("metadata");
    await expect(checkWebhookDestination("https://nowhere.invalid/", { allowPrivate: false, resolve: async () => Promise.reject(Object.assign(new Error("x"), { code: "ENOTFOUND" })) })).rejects.toThrow("does not resolve (ENOTFOUND)");
  });

  it("takes custom headers as Name: value lines, and refuses the ones the stream sets itself", () => {
    expect(headerLinesSchema.parse(["Authorization: Splunk 1234-abcd", "", "  DD-API-KEY:  k  "])).toEqual({ Authorization: "Splunk 1234-abcd", "DD-API-KEY": "k" });
    expect(headerLinesSchema.safeParse(["webhook-signature: v1,forged"]).error?.issues[0]?.message).toBe("webhook-signature is set by the stream itself.");
    expect(headerLinesSchema.safeParse(["no colon here"]).success).toBe(false);
    expect(headerLinesSchema.safeParse(["X-Evil: a\r\nInjected: b"]).success).toBe(false);
    // Node refuses characters beyond Latin-1 only when it sends: they are refused here instead.
    expect(headerLinesSchema.safeParse(["X-Name: café"]).success).toBe(false);
    expect(headerLinesSchema.safeParse(["X-Name: \u202eevil"]).success).toBe(false);
  });
});

describe("a URL as shown", () => {
  it("cuts long path segments and the query, where webhook credentials sit", () => {
    expect(displayUrl("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX")).toBe("https://hooks.slack.com/services/T00000000/B00000000/…");
    expect(displayUrl("https://http-intake.logs.datadoghq.eu/api/v2/logs?dd-api-key=abc")).toBe("https://http-intake.logs.datadoghq.eu/api/v2/logs?…");
    expect(displayUrl("https://splunk.example.com:8088/services/collector/raw")).toBe("https://splunk.example.com:8088/services/collector/raw");
  });
});

describe("retries", () => {
  it("wait exponentially longer, with jitter, up to five minutes", () => {
    expect(retryDelayMs(1, () => 0)).toBe(1_000);
    expect(retryDelayMs(2, () => 0)).toBe(2_000);
    expect(retryDelayMs(5, () => 0)).toBe(16_000);
    expect(retryDelayMs(5, () => 0.999)).toBeLessThanOrEqual(20_000);
    expect(retryDelayMs(40, () => 0)).toBe(300_000);
    expect(retryDelayMs(40, () => 1)).toBe(375_000);
  });
});

describe("the alert mail transport", () => {
  it("reads SMTP_URL with its timeouts, and requires STARTTLS over smtp:// to another machine", () => {
    expect(mailTransportOptions("smtp://alerts%40example.com:p%40ss@mail.example.com")).toEqual({
      host: "mail.example.com",
      port: 587,
      secure: false,
      requireTLS: true,
      auth: { user: "alerts@example.com", pass: "p@ss" },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 10_000,
    });
    expect(mailTransportOptions("smtps://mail.example.com")).toMatchObject({ port: 465, secure: true, requireTLS: false });
    expect(mailTransportOptions("smtp://127.0.0.1:2525")).toMatchObject({ port: 2525, requireTLS: false });
    expect(mailTransportOptions("smtp://localhost:25")).not.toHaveProperty("auth");
  });
});
