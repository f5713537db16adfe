/* Embeds the cited-answer assistant: a floating button that opens the chat in an iframe.
   <script src="https://HOST/widget.js" data-title="Ask the articles" data-color="#0b5fff" data-position="right"
           data-greeting="Hi! Ask me about our articles." data-theme="auto" async></script>
   data-position: right or left; data-theme: light, dark or auto (the reader's system setting).
   Everything lives in a shadow root, so the host page's styles and DOM are left alone. On a phone the
   chat opens as a full-screen sheet; its × button or Escape closes it and gives the focus back. */
(() => {
  const script = document.currentScript;
  if (!script || window.__citedAssistantWidget) return;
  window.__citedAssistantWidget = true;
  const origin = new URL(script.src).origin;
  const title = (script.dataset.title || "Ask the articles").slice(0, 80);
  const color = /^#[0-9a-fA-F]{3,8}$/.test(script.dataset.color || "") ? script.dataset.color : "#0b5fff";
  const side = script.dataset.position === "left" ? "left" : "right";
  const greeting = (script.dataset.greeting || "").slice(0, 300);
  const theme = ["light", "dark"].includes(script.dataset.theme) ? script.dataset.theme : "auto";

  fetch(origin + "/api/widget").then(async (response) => {
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      console.error("Ask-the-articles widget refused: " + (body.detail || ("HTTP " + response.status)));
      return;
    }
    mount();
  }).catch((error) => console.error("Ask-the-articles widget refused: " + location.origin + " is not allowed by "
    + origin + " (its owner must add it to --allowed-origins), or " + origin + " cannot be reached (" + error.message + ")"));

  function mount() {
    const host = document.createElement("div");
    host.id = "cited-assistant-widget";
    host.style.all = "initial";
    const root = host.attachShadow({ mode: "open" });
    root.innerHTML = `
      <style>
        .launcher { position: fixed; bottom: 20px; ${side}: 20px; z-index: 2147483000; background: ${color}; color: #fff;
          border: 0; border-radius: 28px; padding: 12px 18px; font: 600 15px system-ui, sans-serif; cursor: pointer;
          box-shadow: 0 6px 20px rgba(0,0,0,.25); }
        .launcher:focus-visible { outline: 3px solid #000; outline-offset: 3px; }
        .panel { position: fixed; bottom: 84px; ${side}: 20px; z-index: 2147483000; width: min(400px, calc(100vw - 40px));
          height: min(600px, calc(100vh - 110px)); border: 0; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.3);
          background: #fff; display: none; }
        .panel.open { display: block; }
        @media (max-width: 600px) {
          .panel { inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
          .launcher[aria-expanded="true"] { display: none; }
        }
      </style>
      <button class="launcher" type="button" aria-haspopup="dialog" aria-expanded="false"></button>
      <iframe class="panel" title="" allow="clipboard-write"></iframe>`;
    const button = root.querySelector(".launcher"), frame = root.querySelector(".panel");
    button.textContent = title;
    frame.title = title;
    // The page's address (without its query) lets an article opened from the chat link back here.
    frame.src = origin + "/embed?" + new URLSearchParams({ title, color, greeting, theme,
                                                          host: location.origin + location.pathname });
    const open = (state) => {
      frame.classList.toggle("open", state);
      button.setAttribute("aria-expanded", String(state));
      if (state) { frame.focus(); frame.contentWindow && frame.contentWindow.postMessage("assistant:focus", origin); }
      else button.focus();
    };
    button.addEventListener("click", () => open(!frame.classList.contains("open")));
    document.addEventListener("keydown", (event) => { if (event.key === "Escape" && frame.classList.contains("open")) open(false); });
    window.addEventListener("message", (event) => { if (event.origin === origin && event.data === "assistant:close") open(false); });
    document.body.append(host);
  }
})();
