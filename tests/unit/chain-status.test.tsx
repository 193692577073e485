import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ChainStatusPanel } from "@/components/account-logs/chain-status";
import type { ChainStatus } from "@/lib/audit/verify";

const now = new Date("2026-11-30T06:00:00Z");
const DAY = 24 * 3600 * 1000;

function status(partitionsUntil: Date | null, unsealed: ChainStatus["unsealed"] = { rows: 0, oldestAt: null }): ChainStatus {
  return {
    head: { seq: 1200, id: 1203, hash: "ab".repeat(32) },
    lastVerification: undefined,
    unsealed,
    lastCheckpoint: { seq: 1000, signedAt: new Date(now.getTime() - 60_000) },
    partitionsUntil,
  };
}

const render = (s: ChainStatus) => renderToStaticMarkup(<ChainStatusPanel status={s} now={now} />);

describe("the chain panel", () => {
  it("says how far rows are sealed, that rows after the last checkpoint rest on the chain alone, and the lag of waiting rows", () => {
    const html = render(status(new Date(now.getTime() + 60 * DAY), { rows: 3, oldestAt: new Date(now.getTime() - 8_000) }));
    expect(html).toContain("Sealed up to seq 1,200 (ID 1203,");
    expect(html).toContain("Last signed checkpoint: seq 1,000");
    expect(html).toContain("Rows after it are protected by the chain alone");
    expect(html).toMatch(/text-amber-900">3 rows wait to be sealed.*\(lag 8 s\)/);
  });

  it("warns when the log's partitions end within 30 days, and not before", () => {
    expect(render(status(new Date(now.getTime() + 62 * DAY)))).not.toContain("partition-warning");
    expect(render(status(null))).not.toContain("partition-warning");
    const html = render(status(new Date(now.getTime() + 29 * DAY)));
    expect(html).toContain('data-testid="partition-warning"');
    expect(html).toContain("monthly partitions end");
    expect(html).toContain("2026-12-29");
  });

  it("names the last retention: the months, the rows, the boundary and the archives", () => {
    expect(render(status(null))).not.toContain("retention-status");
    const html = render({
      ...status(null),
      retention: { seq: 41_000, rowsRemoved: 40_999, months: ["2025-11", "2025-12"], archives: ["account-log-1a2b3c4d-2025-11.ndjson", "account-log-1a2b3c4d-2025-12.ndjson"], retainedAt: new Date(now.getTime() - DAY) },
    });
    expect(html).toContain('data-testid="retention-status"');
    expect(html).toMatch(/Retention: rows through seq 41,000 \(40,999 rows; 2025-11, 2025-12\) were\s+archived and removed on/);
    expect(html).toContain("to account-log-1a2b3c4d-2025-11.ndjson, account-log-1a2b3c4d-2025-12.ndjson");
  });
});
