import { describe, expect, it } from "vitest";
import { chainCopyQuery, utcSecondText } from "@/lib/audit/chain-scan";

describe("the chain scan's time text", () => {
  it("writes every second from 1970 to 9999 as Date's ISO string does, without a Date", () => {
    const edges = [0, 59, 86_399, 86_400, 951_782_400, 951_868_800, 1_709_164_800, 4_102_444_799, 253_402_300_799];
    let state = 7;
    const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const seconds = [...edges, ...Array.from({ length: 20_000 }, () => Math.floor(random() * 253_402_300_800))];
    for (const second of seconds) expect(utcSecondText(second), String(second)).toBe(new Date(second * 1000).toISOString().slice(0, 19));
  });

  it("copies only whole positions, in chain order", () => {
    expect(chainCopyQuery(10.7, 20.2)).toContain("where seq > 10 and seq <= 20 order by seq");
  });
});
