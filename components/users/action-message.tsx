import { isProblem, type ActionState } from "@/lib/actions/state";

/**
 * The outcome of a form's last action, announced politely. Fields an error is about point here
 * with aria-describedby, so the message is read with the field.
 */
export function ActionMessage({ id, state }: { id: string; state: ActionState<string> | undefined }) {
  const shown = state && state.status !== "idle" ? state : undefined;
  return (
    <p id={id} role="status" className={`min-h-5 text-sm ${isProblem(shown) ? "text-red-700" : "text-green-800"}`}>
      {shown?.message}
    </p>
  );
}
