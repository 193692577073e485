import { connection } from "next/server";
import { MenuBar } from "@/components/layout/menu-bar";
import { requireUser } from "@/lib/auth/session";

export default async function SignedInLayout({ children }: { children: React.ReactNode }) {
  await connection();
  const user = await requireUser();
  return (
    <>
      <MenuBar user={user} />
      {children}
    </>
  );
}
