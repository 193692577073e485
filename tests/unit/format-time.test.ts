import { describe, expect, it } from "vitest";
import { formatInZone, formatUtc } from "@/lib/format/time";

const at = new Date("2026-11-26T13:05:12.345Z");

describe("formatUtc", () => {
  it("writes the instant in UTC, to the second, with the zone named", () => {
    expect(formatUtc(at)).toBe("2026-11-26 13:05:12 UTC");
  });
});

describe("formatInZone", () => {
  it("gives the wall-clock time in the zone and its short name in the viewer's language", () => {
    expect(formatInZone(at, "Asia/Kolkata", "en-US")).toBe("2026-11-26 18:35:12 GMT+5:30");
    expect(formatInZone(at, "Asia/Kolkata", "en-IN")).toBe("2026-11-26 18:35:12 IST");
    expect(formatInZone(at, "Europe/Berlin", "en-GB")).toBe("2026-11-26 14:05:12 CET");
    expect(formatInZone(at, "UTC", "en-US")).toBe("2026-11-26 13:05:12 UTC");
  });

  it("follows daylight saving time and crosses midnight into the next or previous day", () => {
    expect(formatInZone(at, "America/New_York", "en-US")).toBe("2026-11-26 08:05:12 EST");
    expect(formatInZone(new Date("2026-07-01T02:30:00Z"), "America/New_York", "en-US")).toBe("2026-06-30 22:30:00 EDT");
    expect(formatInZone(new Date("2026-11-26T18:30:00Z"), "Asia/Kolkata", "en-US")).toBe("2026-11-27 00:00:00 GMT+5:30");
  });

  it("keeps Latin digits and the fixed order whatever the language", () => {
    expect(formatInZone(at, "Africa/Cairo", "ar-EG")).toMatch(/^2026-11-26 15:05:12 \S/);
  });

  it("survives a malformed language tag and an unknown zone", () => {
    expect(formatInZone(at, "Asia/Kolkata", "not a tag!")).toBe("2026-11-26 18:35:12 GMT+5:30");
    expect(formatInZone(at, "Mars/Olympus_Mons", "en-US")).toBe("2026-11-26 13:05:12 UTC");
  });
});
