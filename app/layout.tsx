import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Account Logs", template: "%s · Account Logs" },
  description: "Sign-in audit trail and lockout guard",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
