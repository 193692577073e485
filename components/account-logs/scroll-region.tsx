import type { ReactNode } from "react";

/**
 * A box that scrolls sideways on a narrow screen and takes focus, so the keyboard can scroll it
 * (for tables without links to tab into). Positioned, so visually hidden text inside scrolls
 * with it instead of widening the page.
 */
export function ScrollRegion({ label, className = "", children }: { label: string; className?: string; children: ReactNode }) {
  return (
    <div
      role="region"
      aria-label={label}
      tabIndex={0}
      className={`relative overflow-x-auto rounded focus-visible:outline-2 focus-visible:outline-blue-600 ${className}`}
    >
      {children}
    </div>
  );
}
