// Added by tests/integration/test_class.cpp after class.html's body (in a
// copy without its Content-Security-Policy, which lets no script run):
// measures the page as drawn and leaves what it found, as JSON, in
// <pre id="class-probe"> for Chromium's --dump-dom.
"use strict";
(function () {
  const root = document.documentElement;
  const say = node => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") + " " + JSON.stringify((node.textContent || "").slice(0, 40));
  const out = {
    viewport: root.clientWidth, scroll_width: root.scrollWidth, beyond_window: [], small_text: [], sections: [],
    tracks: [], dots: document.querySelectorAll("circle.dot").length, student_rows: document.querySelectorAll("table.students tbody tr").length,
    injected: document.querySelectorAll("img, iframe, object, embed, script:not([data-probe])").length,
  };
  for (const node of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "title"].includes(node.tagName) || node.closest("#class-probe")) continue;
    const r = node.getBoundingClientRect();
    if (!node.getClientRects().length || r.width === 0 || r.height === 0) continue;  // not drawn
    if (r.right > root.clientWidth + 0.5 && !node.closest(".table-scroll")) out.beyond_window.push(say(node) + " to " + r.right.toFixed(1));
    if (!Array.from(node.childNodes).some(c => c.nodeType === Node.TEXT_NODE && c.textContent.trim())) continue;
    let px = parseFloat(getComputedStyle(node).fontSize);
    if (node instanceof SVGElement) px *= node.getScreenCTM().a;
    if (px < 10.99) out.small_text.push(say(node) + " at " + px.toFixed(2) + " px");
  }
  for (const section of document.querySelectorAll("section[id]")) out.sections.push(section.id);
  for (const svg of document.querySelectorAll(".strip-row:not(.axis) svg")) out.tracks.push(svg.getBoundingClientRect().width);
  const pre = document.createElement("pre");
  pre.id = "class-probe";
  pre.hidden = true;
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
