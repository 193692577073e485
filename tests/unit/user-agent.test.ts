import { describe, expect, it } from "vitest";
import { describeClient, parseBrandList } from "@/lib/client/user-agent";

const WINDOWS_CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const MAC_SAFARI =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const ANDROID_CHROME =
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

describe("describeClient", () => {
  it("shows Windows 11 when the platform-version hint says so", () => {
    const client = describeClient({
      userAgent: WINDOWS_CHROME,
      hints: {
        "sec-ch-ua-platform": '"Windows"',
        "sec-ch-ua-platform-version": '"15.0.0"',
        "sec-ch-ua-full-version-list": '"Google Chrome";v="131.0.6778.86", "Chromium";v="131.0.6778.86", "Not_A Brand";v="24.0.0.0"',
      },
    });
    expect(client.summary).toBe("Chrome 131 · Windows 11");
    expect(client.clientHints?.["sec-ch-ua-platform-version"]).toBe('"15.0.0"');
  });

  it("shows Windows 10 for platform versions 1 to 12", () => {
    const client = describeClient({
      userAgent: WINDOWS_CHROME,
      hints: { "sec-ch-ua-platform": '"Windows"', "sec-ch-ua-platform-version": '"10.0.0"' },
    });
    expect(client.os).toEqual({ name: "Windows", version: "10" });
  });

  it("does not guess between Windows 10 and 11 from the frozen user agent", () => {
    expect(describeClient({ userAgent: WINDOWS_CHROME }).summary).toBe("Chrome 131 · Windows 10/11");
  });

  it("does not report the frozen macOS 10.15.7", () => {
    expect(describeClient({ userAgent: MAC_SAFARI }).summary).toBe("Safari 17 · macOS");
    const hinted = describeClient({
      userAgent: MAC_SAFARI,
      hints: { "sec-ch-ua-platform": '"macOS"', "sec-ch-ua-platform-version": '"14.5.0"' },
    });
    expect(hinted.os).toEqual({ name: "macOS", version: "14" });
  });

  it("names the device type when not a desktop, without Chrome's placeholder model", () => {
    expect(describeClient({ userAgent: ANDROID_CHROME }).summary).toBe("Chrome 131 · Android · mobile");
    expect(describeClient({ userAgent: IPHONE_SAFARI }).summary).toBe("Mobile Safari 17 · iOS 17.5 · iPhone");
    expect(describeClient({ userAgent: FIREFOX_LINUX }).summary).toBe("Firefox 133 · Linux");
  });

  it("caps the stored user agent and records its real length", () => {
    const huge = `${WINDOWS_CHROME} ${"x".repeat(10_000)}`;
    const client = describeClient({ userAgent: huge });
    expect(client.userAgent).toEqual({ value: huge.slice(0, 512), length: huge.length, truncated: true });
    expect(client.summary).toBe("Chrome 131 · Windows 10/11");
  });

  it("keeps markup as data and says when nothing is known", () => {
    const client = describeClient({ userAgent: "<script>alert(1)</script>" });
    expect(client.userAgent?.value).toBe("<script>alert(1)</script>");
    expect(client.summary).toBe("Unrecognized client");
    expect(describeClient({}).summary).toBe("No user agent");
  });
});

describe("parseBrandList", () => {
  it("reads brand/version pairs and tolerates junk", () => {
    expect(parseBrandList('"Microsoft Edge";v="131.0.2903.70", "Not?A_Brand";v="99.0.0.0"')).toEqual([
      { brand: "Microsoft Edge", version: "131.0.2903.70" },
      { brand: "Not?A_Brand", version: "99.0.0.0" },
    ]);
    expect(parseBrandList("garbage;;;")).toEqual([]);
  });
});
