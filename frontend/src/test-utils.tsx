// Renders a page as the app does (router + auth) over a fake `fetch` answering like the gateway.
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { AuthProvider } from "./auth/AuthContext";

export type Handler = (method: string, path: string, body: unknown) => { status: number; body: unknown } | undefined;

export function fakeGateway(handler: Handler) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input);
    const method = init?.method ?? "GET";
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path, body });
    const answer = handler(method, path, body) ?? {
      status: 404,
      body: { error: { code: "NOT_FOUND", message: "No such route", requestId: "r" } },
    };
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

export const fan = { id: "u1", name: "Asha", email: "asha@example.com", role: "USER", createdAt: "2026-01-01T00:00:00.000Z" };

export function renderPage(path: string, pattern: string, page: ReactElement, signedIn = true) {
  if (signedIn) localStorage.setItem("ticketflow.token", "token");
  else localStorage.removeItem("ticketflow.token");
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path={pattern} element={page} />
          <Route path="*" element={<p>elsewhere</p>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}
