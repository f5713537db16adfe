// Copies `text` to the clipboard, then calls `done` (the chat page's and the widget's "Copy answer").
// Pages served over http from elsewhere than localhost have no clipboard API: a selected textarea then.
function copyText(text, done) {
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => copyBySelection(text, done));
  } else {
    copyBySelection(text, done);
  }
}

function copyBySelection(text, done) {
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
