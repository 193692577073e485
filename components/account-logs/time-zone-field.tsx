"use client";

import { useEffect, useState } from "react";
import { localInputValue } from "@/lib/account-log/time-zone";

type Props = {
  /** The zone the server wrote the times in: the one in the URL, or UTC. */
  zone: string;
  /** Time inputs by element ID, with the instant each shows. */
  fields: Record<string, string | undefined>;
};

/**
 * Sends the viewer's time zone with the form, so times typed without an offset mean the
 * viewer's wall clock, and rewrites the time inputs into that zone. Without JavaScript the
 * form keeps the zone the server used, and says which.
 */
export function TimeZoneField({ zone, fields }: Props) {
  const [viewerZone, setViewerZone] = useState(zone);
  useEffect(() => {
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!browserZone || browserZone === zone) return;
    for (const [id, instant] of Object.entries(fields)) {
      const input = document.getElementById(id);
      if (input instanceof HTMLInputElement && instant) input.value = localInputValue(new Date(instant), browserZone);
    }
    // The zone is known only in the browser, after the server has rendered.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setViewerZone(browserZone);
    // Fields are plain data from the server; re-run only when the zone the server used changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [zone]);
  return (
    <>
      <input type="hidden" name="tz" value={viewerZone} />
      <p id="account-log-zone" className="text-xs text-slate-600">
        Times are read and shown in {viewerZone}.
      </p>
    </>
  );
}
