// The chat page's conversation (run by Gradio once, with `element` the conversation's root).
// Gradio replaces the conversation's HTML at every update, so everything here is delegated.
// - a screen reader hears each finished answer once, as text, from a live region of its own;
// - a new question scrolls to the top of the screen, so that its answer's first line is in view;
// - [n] opens and focuses its source; "Copy answer" copies clean text with the sources.
const live = document.createElement("div");
live.id = "announcer";
live.className = "sr-only";
live.setAttribute("role", "status");
live.setAttribute("aria-live", "polite");
document.body.append(live);
let turns = 0, answered = 0;
new MutationObserver(() => {
  const all = element.querySelectorAll(".turn");
  const done = element.querySelectorAll(".turn .answer:not(.streaming), .turn .refusal, .turn .error");
  if (all.length > turns) all[all.length - 1].scrollIntoView({ block: "start" });
  if (done.length > answered) {
    const last = done[done.length - 1];
    const text = last.querySelector(".text, p").textContent;
    live.textContent = last.classList.contains("refusal") ? "No answer in the articles: " + text
      : last.classList.contains("error") ? text : "Answer: " + text;
  }
  turns = all.length;
  answered = done.length;
}).observe(element, { childList: true, subtree: true });

element.addEventListener("click", (event) => {
  const cite = event.target.closest("a.cite");
  if (cite) {
    event.preventDefault();
    const source = element.querySelector(cite.getAttribute("href"));
    if (!source) return;
    source.querySelector("details").open = true;
    source.scrollIntoView({ block: "nearest" });
    source.focus({ preventScroll: true });
    return;
  }
  const copy = event.target.closest("button.copy");
  if (copy) {
    const done = () => { copy.textContent = "Copied"; setTimeout(() => { copy.textContent = "Copy answer"; }, 2000); };
    const text = copy.dataset.copy;
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => fallback(text, done));
    else fallback(text, done);
  }
});

function fallback(text, done) {  // http pages other than localhost have no clipboard API
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  if (document.execCommand("copy")) done();
  area.remove();
}
