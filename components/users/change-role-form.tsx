import type { UserRole } from "@/db/schema";

type Props = {
  userId: number;
  username: string;
  role: UserRole;
  action: (form: FormData) => void;
  pending: boolean;
};

/** One button: the other role. The action refuses to demote the last active admin. */
export function ChangeRoleForm({ userId, username, role, action, pending }: Props) {
  const to: UserRole = role === "admin" ? "user" : "admin";
  return (
    <form action={action} className="flex flex-wrap items-center gap-2">
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="role" value={to} />
      <span className="text-xs text-slate-700">Role: {role}</span>
      <button
        type="submit"
        disabled={pending}
        className="rounded border border-slate-400 bg-white px-3 py-1 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
      >
        {to === "admin" ? "Make admin" : "Make user"}
        <span className="sr-only"> ({username})</span>
      </button>
    </form>
  );
}
