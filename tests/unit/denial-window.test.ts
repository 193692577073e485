import { describe, expect, it } from "vitest";
import { ADDRESSES_KEPT, aggregateMetadata, admitDenial, isWindowOver, refusalsOf, type Denial, type DenialWindow, type SuppressedDenials } from "@/lib/account-log/denial-window";

const limits = { limit: 3, windowMs: 60_000 };
const T0 = Date.parse("2026-11-26T09:00:00Z");
const denial = (at: number, resource = "admin pages", ip: string | null = "203.0.113.7"): Denial => ({ at, resource, ip, metadata: { summary: "Chrome 131" } });

/** Runs refusals through the rule; returns the rows written (1 or an aggregate's count each) and the last window. */
function run(denials: Denial[]) {
  let window: DenialWindow | undefined;
  const rows: { count: number; metadata?: ReturnType<typeof aggregateMetadata> }[] = [];
  for (const d of denials) {
    const admission = admitDenial(window, d, limits);
    if (admission.closed) rows.push({ count: admission.closed.count, metadata: aggregateMetadata(admission.closed) });
    if (admission.verdict === "write") rows.push({ count: 1 });
    window = admission.window;
  }
  return { rows, window: window! };
}

describe("admitDenial", () => {
  it("writes the first refusals of a window and holds back the rest", () => {
    const { rows, window } = run(Array.from({ length: 10 }, (_, i) => denial(T0 + i * 1000)));
    expect(rows).toEqual([{ count: 1 }, { count: 1 }, { count: 1 }]);
    expect(window).toMatchObject({ start: T0, written: 3, suppressed: { count: 7, from: T0 + 3000, to: T0 + 9000 } });
  });

  it("writes a closed window's held-back refusals as one row at the next refusal, then starts a new window", () => {
    const first = Array.from({ length: 200 }, (_, i) => denial(T0 + i * 100, i % 2 ? "admin pages" : "account log export"));
    const { rows, window } = run([...first, denial(T0 + 60_000, "unlock action")]);
    expect(rows.map((row) => row.count)).toEqual([1, 1, 1, 197, 1]);
    expect(rows[3]!.metadata).toMatchObject({
      count: 197,
      resources: { "admin pages": 99, "account log export": 98 },
      resource: "account log export, admin pages",
      from: new Date(T0 + 300).toISOString(),
      to: new Date(T0 + 19_900).toISOString(),
      summary: "Chrome 131",
    });
    expect(window).toEqual({ start: T0 + 60_000, written: 1 });
  });

  it("loses no refusal: the rows' counts add up to the refusals, with whatever is still held", () => {
    const times: number[] = [];
    let t = T0;
    for (let i = 0; i < 1_000; i++) times.push((t += Math.floor((i * 7919) % 9000)));
    const { rows, window } = run(times.map((at) => denial(at)));
    const written = rows.reduce((sum, row) => sum + row.count, 0);
    expect(written + (window.suppressed?.count ?? 0)).toBe(1_000);
  });

  it("does not close a window one instant early, and a window without held-back refusals closes silently", () => {
    expect(run([denial(T0), denial(T0 + 59_999)]).window.start).toBe(T0);
    const { rows } = run([denial(T0), denial(T0 + 60_000)]);
    expect(rows).toEqual([{ count: 1 }, { count: 1 }]);
  });

  it("keeps the first address and at most 16 others", () => {
    const many = Array.from({ length: 3 + 40 }, (_, i) => denial(T0 + i, "admin pages", `198.18.0.${i % 30}`));
    const { window } = run([...many, denial(T0 + 50, "admin pages", null)]);
    const held = window.suppressed as SuppressedDenials;
    expect(held.ip).toBe("198.18.0.3");
    expect(held.otherAddresses).toHaveLength(ADDRESSES_KEPT);
    expect(held.otherAddresses).not.toContain("198.18.0.3");
    expect(held.count).toBe(41);
  });
});

describe("isWindowOver and refusalsOf", () => {
  it("says when a window's aggregate is due, and counts a plain row as one refusal", () => {
    const window = { start: T0, written: 3 };
    expect(isWindowOver(window, T0 + 59_999, limits)).toBe(false);
    expect(isWindowOver(window, T0 + 60_000, limits)).toBe(true);
    expect(refusalsOf({ resource: "admin pages" })).toBe(1);
    expect(refusalsOf({ resource: "admin pages", count: 42 })).toBe(42);
  });
});
