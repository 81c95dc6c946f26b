import { describeError } from "../store";

/** An error in words, announced to screen readers. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return <p class="error" role="alert">{describeError(error)}</p>;
}
