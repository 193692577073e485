import { requireAdmin } from "@/lib/auth/session";

// Checked here as well as in each page: a layout renders before any loading state streams,
// so a non-admin gets a real 403 status, not a 200 with the forbidden message.
export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  await requireAdmin();
  return children;
}
