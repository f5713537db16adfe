// The chat page's conversation (run by Gradio once, with `element` the conversation's root).
// Gradio replaces the conversation's HTML at every update, so everything here is delegated.
// - a screen reader hears each finished answer once, as text, from a live region of its own;
// - a new question scrolls to the top of the screen, so that its answer's first line is in view, and
//   the finished answer, a source opened and a refusal's nearest passages shown are scrolled above
//   the bar at the bottom (the suggestions and the question box), as far as they fit;
// - the bar keeps within a fifth of the window: suggestions that would take it past are left out;
// - [n] opens and focuses its source; "Copy answer" copies clean text with the sources;
// - 👍/👎 then an optional comment go to /api/feedback; a rated answer stays marked across updates.
const live = document.createElement("div");
live.id = "announcer";
live.className = "sr-only";
live.setAttribute("role", "status");
live.setAttribute("aria-live", "polite");
document.body.append(live);
let turns = 0, answered = 0;
const rated = new Map();  // turn index -> [rating, what the reader was told]
new MutationObserver(() => {
  const all = element.querySelectorAll(".turn");
  if (!all.length) rated.clear();
  for (const [i, [rating, told]] of rated) {
    const turn = all[i];
    if (!turn || turn.dataset.shown === "1") continue;
    turn.dataset.shown = "1";
    for (const b of turn.querySelectorAll("button.rate")) b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
    turn.querySelector(".thanks").textContent = told;
  }
  const done = element.querySelectorAll(".turn .answer:not(.streaming), .turn .refusal, .turn .error");
  if (all.length > turns) all[all.length - 1].scrollIntoView({ block: "start" });
  if (done.length > answered) {
    const last = done[done.length - 1];
    requestAnimationFrame(() => { fit(); reveal(last.closest(".turn")); });
    const text = last.querySelector(".text, p").textContent;
    live.textContent = last.classList.contains("refusal") ? "No answer in the articles: " + text
      : last.classList.contains("error") ? text
      : last.classList.contains("tentative") ? "Not sure. " + last.querySelector(".hedge").textContent + " "
        + last.querySelector(".text").textContent : "Answer: " + text;
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
    reveal(source);
    source.focus({ preventScroll: true });
    return;
  }
  const rate = event.target.closest("button.rate");
  if (rate) {
    const turn = rate.closest(".turn");
    for (const b of turn.querySelectorAll("button.rate")) b.setAttribute("aria-pressed", String(b === rate));
    const form = turn.querySelector("form.comment");
    form.hidden = false;
    form.querySelector("input").focus();
    return;
  }
  const copy = event.target.closest("button.copy");
  if (copy) {
    const done = () => { copy.textContent = "Copied"; setTimeout(() => { copy.textContent = "Copy answer"; }, 2000); };
    copyText(copy.dataset.copy, done);  // static/copy.js, loaded with this script
  }
});

// A passage (or a refusal's nearest passages) opened by its summary is scrolled above the bar.
element.addEventListener("toggle", (event) => {
  const details = event.target;
  if (details.open) reveal(details.closest("li") || details);
}, true);

// The bar at the bottom of the window: the last element of the page.
const bar = () => document.getElementById("composer");
const BAR_SHARE = 0.2;  // of the window's height, at most

// Scroll so that `target` sits between the top of the window and the bar, as much of it as fits:
// never past its top.
function reveal(target) {
  const limit = bar() ? bar().getBoundingClientRect().top : innerHeight;
  const box = target.getBoundingClientRect(), margin = 8;
  const below = box.bottom - (limit - margin), above = box.top - margin;
  if (above < 0) window.scrollBy(0, above);
  else if (below > 0) window.scrollBy(0, Math.min(below, above));
}

// Every suggestion is shown whole (they wrap); while the bar is taller than its share of the window,
// the last ones are left out (never the first).
function fit() {
  const composer = bar();
  if (!composer) return;
  const chips = [...composer.querySelectorAll("#suggestions button.suggestion")];
  chips.forEach((chip) => chip.classList.remove("spare"));
  for (let i = chips.length - 1; i > 0 && composer.offsetHeight > BAR_SHARE * innerHeight; i--) {
    if (chips[i].offsetParent !== null) chips[i].classList.add("spare");
  }
  if (watcher) watcher.takeRecords();  // our own changes
}
let watcher = null;
(function watch() {  // the bar is built after the conversation: wait for it, then refit at every change
  const suggestions = document.getElementById("suggestions");
  if (!suggestions) { requestAnimationFrame(watch); return; }
  watcher = new MutationObserver(fit);
  watcher.observe(suggestions, { childList: true, subtree: true, characterData: true, attributes: true,
                                 attributeFilter: ["class", "style", "hidden"] });
  addEventListener("resize", fit);
  fit();
})();

element.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.comment");
  if (!form) return;
  event.preventDefault();
  const turn = form.closest(".turn"), all = [...element.querySelectorAll(".turn")], i = all.indexOf(turn);
  const rating = turn.querySelector('button.rate[aria-pressed="true"]').dataset.rating;
  const answer = JSON.parse(turn.dataset.answer);
  const history = all.slice(0, i).map(t => JSON.parse(t.dataset.answer)).map(a => ({ question: a.question, answer: a.answer }));
  const thanks = turn.querySelector(".thanks");
  try {
    const response = await fetch("/api/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: answer.question, answer, history, rating: Number(rating), comment: form.comment.value }) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.detail || ("HTTP " + response.status));
    form.hidden = true;
    thanks.textContent = "Thank you: your rating was saved.";
    rated.set(i, [rating, thanks.textContent]);
    turn.dataset.shown = "1";
  } catch (error) {
    thanks.textContent = "Your rating was not saved: " + error.message;
  }
});
