"use client";

import { createContext, useContext, useState } from "react";
import { isProblem, type UnlockActionState } from "@/lib/actions/state";

const ReportUnlock = createContext<(state: UnlockActionState) => void>(() => {});

export const useReportUnlock = () => useContext(ReportUnlock);

/**
 * Shows the outcome of the last unlock above the panel and table. It lives here, not in the
 * button, because a successful unlock removes the button that was clicked.
 */
export function UnlockNoticeProvider({ children }: { children: React.ReactNode }) {
  const [notice, setNotice] = useState<UnlockActionState>();
  return (
    <ReportUnlock.Provider value={setNotice}>
      <p
        role="status"
        data-testid="unlock-notice"
        className={isProblem(notice) ? "text-sm text-red-700" : "text-sm text-green-800"}
      >
        {notice && notice.status !== "idle" ? notice.message : null}
      </p>
      {children}
    </ReportUnlock.Provider>
  );
}
