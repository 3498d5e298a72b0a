// Added by tests/integration/test_html.cpp after report.html's own script:
// measures the page as drawn and leaves what it found, as JSON, in
// <pre id="layout-probe"> for Chromium's --dump-dom. Only ids and numbers
// go into it, plus short text excerpts for the messages.
"use strict";
(function () {
  const root = document.documentElement;
  const out = {
    viewport: root.clientWidth, scroll_width: root.scrollWidth, rendered: document.body.getAttribute("data-rendered"),
    small_text: [], cut_labels: [], overlapping_labels: [], scaled_charts: [], labels: 0, unchecked_text: 0,
    key_columns: {}, process_colors: [], aggregated: [], lanes: null,
  };
  const say = node => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") + " " + JSON.stringify((node.textContent || "").slice(0, 40));
  out.mode = JSON.parse(document.getElementById("cxtrace-data").textContent).timeline.mode;

  // Every rendered element with text of its own: its font size on screen
  // (an SVG's scaling included).
  for (const node of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "NOSCRIPT", "title"].includes(node.tagName) || node.closest("#layout-probe")) continue;
    if (!Array.from(node.childNodes).some(c => c.nodeType === Node.TEXT_NODE && c.textContent.trim())) continue;
    const r = node.getBoundingClientRect();
    if (!node.getClientRects().length || r.width === 0 || r.height === 0) continue;  // not drawn
    let px = parseFloat(getComputedStyle(node).fontSize);
    if (node instanceof SVGElement) px *= node.getScreenCTM().a;
    if (px < 10.99) out.small_text.push(say(node) + " at " + px.toFixed(2) + " px");
  }

  // Chart labels: inside their chart and their own limit, none on another.
  for (const chart of document.querySelectorAll("svg")) {
    const box = chart.getBoundingClientRect(), vb = chart.viewBox.baseVal;
    const scale = vb && vb.width ? box.width / vb.width : 1;
    if (Math.abs(scale - 1) > 0.01) out.scaled_charts.push((chart.id || chart.getAttribute("class") || "svg") + " x" + scale.toFixed(3));
    const labels = Array.from(chart.querySelectorAll("text.label")).map(t => ({ t, r: t.getBoundingClientRect() }));
    out.labels += labels.length;
    out.unchecked_text += chart.querySelectorAll("text:not(.label)").length;  // every chart text must be a label
    for (const { t, r } of labels) {
      const right = Math.min(box.right, box.left + parseFloat(t.getAttribute("data-limit")) * scale);
      if (r.left < box.left - 0.5 || r.right > right + 1 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        out.cut_labels.push(say(t) + ": x " + r.left.toFixed(1) + "-" + r.right.toFixed(1) + ", y " + r.top.toFixed(1) + "-" +
          r.bottom.toFixed(1) + " outside x " + box.left.toFixed(1) + "-" + right.toFixed(1) + ", y " + box.top.toFixed(1) + "-" + box.bottom.toFixed(1));
    }
    // Glyph boxes include the line's leading: only a real overlap counts.
    for (let i = 0; i < labels.length; i++)
      for (let j = 0; j < i; j++) {
        const a = labels[i].r, b = labels[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 3) out.overlapping_labels.push(say(labels[i].t) + " on " + say(labels[j].t));
      }
  }

  // The task table's columns: where each ends, and how far one can see
  // without scrolling (the table's box, the window).
  const wrap = document.querySelector("#ids .tablewrap");
  for (const th of document.querySelectorAll("#task-table th[data-column]")) {
    out.key_columns[th.getAttribute("data-column")] = {
      right: th.getBoundingClientRect().right,
      visible_right: Math.min(wrap.getBoundingClientRect().right, root.clientWidth),
    };
  }
  for (const sw of document.querySelectorAll("#process-legend [data-group] .swatch")) out.process_colors.push(getComputedStyle(sw).backgroundColor);
  for (const note of document.querySelectorAll("#placement .aggregated")) out.aggregated.push(note.textContent);

  // The task lanes: which tasks have one and whether it shows time on a
  // CPU and off one; then the first collapsible process closed and opened by clicks.
  const lanes = document.getElementById("task-lanes");
  if (lanes) {
    const laneRows = () => lanes.querySelectorAll(".row-lane").length;
    out.lanes = {
      groups: lanes.querySelectorAll(".row-group").length,
      lane_rows: laneRows(),
      off_cpu: lanes.getAttribute("data-off-cpu") === "yes",
      // [task, on a CPU, runnable, sleeping, blocked]: whether its lane draws each
      tasks: Array.from(lanes.querySelectorAll("[data-task]")).map(g => [Number(g.getAttribute("data-task")),
        ...["path.oncpu", "path.st-runnable", "path.st-sleeping", "path.st-blocked"].map(sel => !!g.querySelector(sel))]),
    };
    const row = lanes.querySelector(".row-group[data-open]");
    if (row) {
      const group = row.getAttribute("data-group");
      const click = () => {
        // Measured anew: the page above may reflow when the window's scroll bar comes or goes.
        const at = lanes.querySelector(".row-group[data-group='" + group + "'] text").getBoundingClientRect();
        for (const type of ["pointerdown", "pointerup"])
          lanes.dispatchEvent(new PointerEvent(type, { bubbles: true, clientX: at.left + 2, clientY: at.top + at.height / 2, pointerId: 1 }));
      };
      const openNow = () => lanes.querySelector(".row-group[data-group='" + group + "']").getAttribute("data-open");
      const toggle = { group: Number(group), open: openNow(), lane_rows: laneRows() };
      click();
      toggle.open_after_click = openNow();
      toggle.lane_rows_after_click = laneRows();
      click();
      toggle.open_after_second_click = openNow();
      toggle.lane_rows_after_second_click = laneRows();
      out.lanes.toggle = toggle;
    }
  }
  const pre = document.createElement("pre");
  pre.id = "layout-probe";
  pre.hidden = true;
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
