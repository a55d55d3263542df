// Who is signed in: the token in localStorage, the user from GET /api/users/me. A 401 on a
// protected call (expired token, deleted account) signs out cleanly.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, setUnauthorizedHandler, tokenStore } from "../api/client";
import type { AuthResponse, User } from "../api/types";

interface AuthValue {
  user: User | null;
  /** True until a stored token has been checked. */
  loading: boolean;
  signIn: (response: AuthResponse) => void;
  signOut: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(() => tokenStore.get() !== null);

  const signOut = useCallback(() => {
    tokenStore.set(null);
    setUser(null);
  }, []);

  const signIn = useCallback((response: AuthResponse) => {
    tokenStore.set(response.token);
    setUser(response.user);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(signOut);
    if (!tokenStore.get()) return;
    const controller = new AbortController();
    api
      .me(controller.signal)
      .then(({ user }) => setUser(user))
      .catch((error: unknown) => {
        if ((error as { status?: number }).status === 401) signOut();
      })
      .finally(() => setLoading(false));
    return () => controller.abort();
  }, [signOut]);

  const value = useMemo(() => ({ user, loading, signIn, signOut }), [user, loading, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
