import { render, screen } from "@testing-library/react";
import { ErrorBoundary } from "./ErrorBoundary";

function Broken(): never {
  throw new Error("bad field");
}

it("shows a readable page instead of a blank one when a page fails to render", () => {
  // React reports the thrown error to the console and to window "error"; both are expected here.
  const spy = vi.spyOn(console, "error").mockImplementation(() => {});
  const quiet = (event: ErrorEvent) => event.preventDefault();
  window.addEventListener("error", quiet);
  render(
    <>
      <p>header stays</p>
      <ErrorBoundary>
        <Broken />
      </ErrorBoundary>
    </>,
  );
  expect(screen.getByRole("alert").textContent).toContain("Something went wrong on this page");
  expect(screen.getByRole("button", { name: "Reload the page" })).toBeTruthy();
  expect(screen.getByText("header stays")).toBeTruthy();
  window.removeEventListener("error", quiet);
  spy.mockRestore();
});
