/** A labelled progress bar for tasks over a second: indeterminate until a fraction is given. */
export function taskProgress(label: string) {
  const root = document.createElement("div") as HTMLDivElement & {update(label: string, fraction?: number): void; done(): void};
  root.className = "task-progress";
  root.setAttribute("role", "status");
  const bar = document.createElement("progress");
  bar.max = 1;
  const text = document.createElement("span");
  text.style.marginLeft = "0.5rem";
  root.append(bar, text);
  root.update = (l, fraction) => {
    text.textContent = l;
    if (fraction === undefined) bar.removeAttribute("value");
    else bar.value = fraction;
  };
  root.done = () => root.remove();
  root.update(label);
  return root;
}
