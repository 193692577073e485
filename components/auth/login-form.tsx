"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useSyncExternalStore, useState, type FormEvent } from "react";
import { signInErrorMessage } from "@/lib/account-log/lockout";

export function LoginForm({ callbackPath, initialError }: { callbackPath: string; initialError?: string }) {
  const router = useRouter();
  const [error, setError] = useState(initialError);
  const [pending, setPending] = useState(false);
  // False in the server's HTML, true once the browser runs the form's script.
  const scripted = useSyncExternalStore(
    () => () => {},
    () => true,
    () => false,
  );

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(undefined);
    try {
      const result = await signIn("credentials", {
        username: String(form.get("username") ?? ""),
        password: String(form.get("password") ?? ""),
        redirect: false,
      });
      if (!result || result.error) {
        setError(signInErrorMessage(result?.error ?? "SignInUnavailable"));
        (event.target as HTMLFormElement).querySelector<HTMLInputElement>("#password")?.select();
        return;
      }
      router.replace(callbackPath);
      router.refresh();
    } catch {
      setError(signInErrorMessage("SignInUnavailable"));
    } finally {
      setPending(false);
    }
  }

  return (
    // POST, never GET: without JavaScript a GET would put the password in the URL, the history
    // and server logs. Such a post lacks NextAuth's CSRF token and is refused (and logged).
    <form onSubmit={onSubmit} method="post" action="/api/auth/callback/credentials" className="space-y-4" noValidate>
      {!scripted && (
        <p className="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900">Signing in needs JavaScript turned on in your browser.</p>
      )}
      <div>
        <label htmlFor="username" className="block text-sm font-medium">
          Username
        </label>
        <input
          id="username"
          name="username"
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          className="mt-1 w-full rounded border border-slate-300 px-3 py-2 focus:outline-2 focus:outline-blue-600"
        />
      </div>
      <div>
        <label htmlFor="password" className="block text-sm font-medium">
          Password
        </label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 w-full rounded border border-slate-300 px-3 py-2 focus:outline-2 focus:outline-blue-600"
        />
      </div>
      <p id="login-error" aria-live="polite" className="min-h-5 text-sm text-red-700">
        {error}
      </p>
      <button
        type="submit"
        disabled={pending}
        className="w-full rounded bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:opacity-60"
      >
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
