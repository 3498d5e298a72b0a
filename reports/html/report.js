// cxtrace report page. Draws the four sections from the JSON embedded in
// #cxtrace-data. Every string from the traced program reaches the page
// through textContent or SVG text nodes, never as markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("cxtrace-data").textContent);
  const tasks = data.tasks;
  const SVG = "http://www.w3.org/2000/svg";
  const app = document.getElementById("app");

  // ---------- small helpers ----------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(ns) {
    if (ns === null || ns === undefined) return "–";
    if (ns < 1e3) return ns.toFixed(0) + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(2) + " ms";
    return (ns / 1e9).toFixed(2) + " s";
  }
  function hue(n) { return (n * 137.508) % 360; }
  function mmColor(mm) {
    const n = parseInt(String(mm || "mm0").slice(2), 10) || 0;
    return "hsl(" + hue(n * 7 + 3).toFixed(0) + ",55%,42%)";
  }
  function mmChip(mm) {
    const chip = el("span", { class: "chip", title: "address space " + (mm || "unknown") }, mm || "?");
    chip.style.background = mmColor(mm);
    return chip;
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function kindBadge(kind) { return el("span", { class: "kind kind-" + kind }, kind); }
  // A task of the launcher (--from-exec): shown, but outside the lesson's figures.
  function launcherBadge(t) {
    return t.launcher ? el("span", { class: "kind kind-launcher", title: "the launcher's task: left out of the figures (--from-exec)" }, "launcher") : "";
  }
  function currentMm(task) { return task.execs.length ? task.execs[task.execs.length - 1].mm : task.mm; }
  function section(id, title, explanation) {
    const s = el("section", { id: id }, el("h2", {}, title));
    if (explanation) s.appendChild(el("p", { class: "explain" }, explanation));
    app.appendChild(s);
    return s;
  }
  const tooltip = el("div", { id: "tooltip" });
  document.body.appendChild(tooltip);
  function showTip(evt, text) {
    tooltip.textContent = text;
    tooltip.style.display = "block";
    tooltip.style.left = Math.min(evt.clientX + 12, window.innerWidth - 430) + "px";
    tooltip.style.top = evt.clientY + 12 + "px";
  }
  function hideTip() { tooltip.style.display = "none"; }
  function taskLabel(t) { return t.comm + " (pid " + t.pid + ", tgid " + t.tgid + ", " + t.kind + ")"; }
  // A thread that exec'd took its group leader's pid: its old tid, which it
  // may have printed, is kept beside it.
  function tidBeforeExec(t) {
    for (const ex of t.execs) if (ex.pid_before !== undefined && ex.pid_before !== t.pid) return ex.pid_before;
    return null;
  }
  function pidText(t) {
    const old = tidBeforeExec(t);
    return old === null ? String(t.pid) : t.pid + " (was tid " + old + " before exec)";
  }
  function ppidText(t) {
    return t.ppid_exited_ns === null || t.ppid_exited_ns === undefined ? String(t.ppid)
      : t.ppid + " (exited at " + fmt(t.ppid_exited_ns) + ": reparented)";
  }
  const findingsBy = {};
  for (const f of data.summary.what_this_shows || []) (findingsBy[f.topic] = findingsBy[f.topic] || []).push(f.text);
  function explainFrom(topics, fallback) {
    const lines = [];
    for (const t of topics) lines.push(...(findingsBy[t] || []));
    return lines.length ? lines.join(" ") : fallback;
  }

  // ---------- processes and their colours ----------
  // A task's process is its thread group at the time it was created: the
  // latest task whose pid is the tgid (a reused tgid is another process).
  const groupOf = new Int32Array(tasks.length), memberAt = new Int32Array(tasks.length);
  const groups = [];  // {leader, members: [task index], rank}, in creation order
  {
    const latestWithPid = new Map();
    for (const t of tasks) {
      const leader = latestWithPid.get(t.tgid);
      const g = t.pid === t.tgid || leader === undefined ? groups.length : groupOf[leader];
      if (g === groups.length) groups.push({ leader: t.index, members: [], rank: g });
      groupOf[t.index] = g;
      memberAt[t.index] = groups[g].members.length;
      groups[g].members.push(t.index);
      latestWithPid.set(t.pid, t.index);
    }
  }
  // OKLCH (lightness and hue as the eye sees them) to sRGB, the chroma
  // lowered until the colour exists in sRGB.
  function oklch(L, C, h) {
    const rad = h * Math.PI / 180;
    for (let c = C; ; c -= 0.005) {
      const a = Math.max(c, 0) * Math.cos(rad), b = Math.max(c, 0) * Math.sin(rad);
      const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
      const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
      const s = (L - 0.0894841775 * a - 1.2914855480 * b) ** 3;
      const lin = [4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
        -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
        -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s];
      if (c > 0 && lin.some(v => v < -1e-4 || v > 1 + 1e-4)) continue;
      return "#" + lin.map(v => {
        const srgb = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(Math.min(1, v), 1 / 2.4) - 0.055;
        return Math.round(255 * Math.max(0, Math.min(1, srgb))).toString(16).padStart(2, "0");
      }).join("");
    }
  }
  // Processes, in creation order, step around the hue circle by the golden
  // angle and through three lightness levels: the first 20 all differ
  // clearly. A process's threads are shades of its colour: lighter or
  // darker, the hue nudged a little, so each stays recognisably its own.
  const PROCESS_LIGHTNESS = [0.62, 0.5, 0.74];
  function processBase(rank) { return { L: PROCESS_LIGHTNESS[rank % 3], h: 30 + rank * 137.508 }; }
  function processColor(rank) { const b = processBase(rank); return oklch(b.L, 0.15, b.h); }
  const taskColors = tasks.map(t => {
    const g = groupOf[t.index], base = processBase(groups[g].rank);
    const j = memberAt[t.index];
    if (j === 0) return processColor(groups[g].rank);
    const shade = (j * 0.6180339887) % 1, nudge = (j * 0.7548776662) % 1;
    const L = Math.max(0.4, Math.min(0.86, base.L - 0.13 + 0.26 * shade));
    return oklch(L, 0.15, base.h + 16 * (nudge - 0.5));
  });
  function taskColor(t) { return taskColors[t.index]; }

  // ---------- text that fits ----------
  // Charts are drawn at the page's width in CSS pixels (never scaled, so
  // their text stays at its CSS size) and labels are measured to fit.
  const measure = document.createElement("canvas").getContext("2d");
  const bodyFont = getComputedStyle(document.body).fontFamily;
  const LABEL_PX = 11;
  function textWidth(text, weight) {
    measure.font = (weight || "normal") + " " + LABEL_PX + "px " + bodyFont;
    return measure.measureText(text).width;
  }
  // text, shortened with an ellipsis to at most maxWidth pixels.
  function fitText(text, maxWidth, weight) {
    if (textWidth(text, weight) <= maxWidth) return text;
    let lo = 0, hi = text.length;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (textWidth(text.slice(0, mid) + "…", weight) <= maxWidth) lo = mid; else hi = mid - 1; }
    return text.slice(0, lo) + "…";
  }
  // An SVG text that must stay inside [x, limit]: class "label" and its
  // limit as data-limit, so a test can check it.
  function label(attrs, text, limit, weight) {
    const shown = fitText(text, limit - attrs.x, weight);
    const node = svg("text", Object.assign({ class: "label", "data-limit": limit.toFixed(1) }, attrs), shown);
    if (weight) node.style.fontWeight = weight;
    if (shown !== text) node.appendChild(svg("title", {}, text));
    return node;
  }
  // Calls draw(holder, width) now and again whenever the page's width
  // changes, so charts follow a resized window (and the scroll bar that a
  // page grown long brings, see redrawResized).
  const sizedCharts = [];
  function sized(parent, draw) {
    const holder = el("div", { class: "sized" });
    parent.appendChild(holder);
    let drawnAt = -1;
    function redraw() {
      const width = Math.floor(holder.clientWidth);
      if (width === drawnAt) return;
      drawnAt = width;
      holder.textContent = "";
      draw(holder, Math.max(280, width));
    }
    redraw();
    sizedCharts.push(redraw);
    if (window.ResizeObserver) new ResizeObserver(redraw).observe(holder);
    return holder;
  }
  // Charts drawn while the page was short may have lost width to the
  // scroll bar since: redrawn now, not a frame later.
  function redrawResized() { for (const redraw of sizedCharts) redraw(); }

  // ---------- 1. creation latency ----------
  function latencySection() {
    const s = section("latency", "1. How long does creating a process or a thread take?",
      explainFrom(["creation"], "No task was created during this run, so there is no creation latency to show."));
    const kinds = ["process", "thread", "vfork", "shared-vm"].filter(k => tasks.some(t => t.kind === k && !t.launcher && t.latency_ns.first_run !== null));
    if (!kinds.length) return;
    s.appendChild(el("p", { class: "note" }, "first run: the creator enters clone/fork → the new task is first switched in on a CPU. " +
      "syscall: the creator enters clone/fork → the call returns in the creator. Each dot is one task; ticks mark p50, p90 and max (log scale)."));
    for (const metric of ["first_run", "syscall"]) {
      s.appendChild(el("h3", {}, metric === "first_run" ? "Until the new task first runs" : "Until clone/fork returns in the creator"));
      sized(s, (holder, width) => holder.appendChild(stripPlot(kinds, metric, width)));
    }
  }
  function quantile(sorted, p) {
    if (!sorted.length) return null;
    const rank = Math.max(1, Math.ceil(p / 100 * sorted.length));
    return sorted[Math.min(rank, sorted.length) - 1];
  }
  // One row per kind: its name and p50 · p90 · max on a line of their own
  // (so they never run off a narrow page), the dots on a log axis below.
  function stripPlot(kinds, metric, width) {
    const left = 14, right = 14, titleH = 18, stripH = 40, rowH = titleH + stripH, axisH = 22;
    const height = rowH * kinds.length + axisH;
    const values = {};
    let lo = Infinity, hi = 0;
    for (const k of kinds) {
      values[k] = tasks.filter(t => t.kind === k && !t.launcher && t.latency_ns[metric] !== null).map(t => ({ v: Math.max(1, t.latency_ns[metric]), t }));
      for (const { v } of values[k]) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (!isFinite(lo)) return el("p", { class: "note" }, "not measured");
    const l0 = Math.floor(Math.log10(lo)), l1 = Math.max(l0 + 1, Math.ceil(Math.log10(hi)));
    const x = v => left + (Math.log10(v) - l0) / (l1 - l0) * (width - left - right);
    const g = svg("svg", { class: "strip", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" });
    // A decade label every `step` decades, so that labels never touch.
    const widest = Math.max(...Array.from({ length: l1 - l0 + 1 }, (_, i) => textWidth(fmt(Math.pow(10, l0 + i)))));
    const step = Math.max(1, Math.ceil((widest + 16) / ((width - left - right) / (l1 - l0))));
    for (let p = l0; p <= l1; p++) {
      const px = x(Math.pow(10, p));
      for (let row = 0; row < kinds.length; row++)  // across the strips, not the titles
        g.appendChild(svg("line", { x1: px, x2: px, y1: row * rowH + titleH + 2, y2: (row + 1) * rowH, stroke: "#e3e7ee" }));
      if ((p - l0) % step) continue;
      const anchor = p === l0 ? "start" : p === l1 ? "end" : "middle";
      const text = fmt(Math.pow(10, p)), w = textWidth(text);
      const x0 = anchor === "start" ? px : anchor === "end" ? px - w : px - w / 2;
      g.appendChild(label({ x: x0, y: height - 6 }, text, Math.min(width, x0 + w + 1)));
    }
    kinds.forEach((k, row) => {
      const top = row * rowH, cy = top + titleH + stripH / 2;
      const sorted = values[k].map(o => o.v).sort((a, b) => a - b);
      const marks = [["p50", 50, 2.5], ["p90", 90, 1.2], ["max", 100, 1.2]];
      const name = k + " (" + values[k].length + ")";
      g.appendChild(label({ x: 4, y: top + 14, style: "fill:#1d2330" }, name, width, "600"));
      const statsAt = 4 + textWidth(name, "600") + 10;
      g.appendChild(label({ x: statsAt, y: top + 14, style: "fill:#1d2330" },
        marks.map(([mark, q]) => mark + " " + fmt(quantile(sorted, q))).join(" · "), width));
      values[k].forEach(({ v, t }, i) => {
        const dot = svg("circle", { cx: x(v), cy: cy - 10 + ((i * 7919) % 21), r: 3.2, fill: taskColor(t), "fill-opacity": 0.8 });
        dot.addEventListener("mousemove", e => showTip(e, taskLabel(t) + "\n" + metric + ": " + fmt(t.latency_ns[metric])));
        dot.addEventListener("mouseleave", hideTip);
        g.appendChild(dot);
      });
      for (const [mark, q, weight] of marks) {
        const px = x(quantile(sorted, q));
        g.appendChild(svg("line", { x1: px, x2: px, y1: cy - 16, y2: cy + 14, stroke: "#1d2330", "stroke-width": weight, "stroke-dasharray": mark === "max" ? "3,2" : "" }));
      }
    });
    return g;
  }

  // ---------- 2. address spaces: the task tree ----------
  const TREE_LIMIT = 600;
  function treeSection() {
    const s = section("tree", "2. Who shares an address space?",
      explainFrom(["address-space"], "Every task here kept the address space it was created with."));
    s.appendChild(el("p", { class: "note" }, "Parent → child, as created. The coloured chip is the address space (mm): tasks with the same chip share one mm_struct, so they see each other's memory. An exec gives its task a new chip."));
    const children = new Map();
    const roots = [];
    for (const t of tasks) {
      if (t.parent_index < 0) roots.push(t);
      else { if (!children.has(t.parent_index)) children.set(t.parent_index, []); children.get(t.parent_index).push(t); }
    }
    let shown = 0;
    function node(t) {
      const li = el("li", {}, kindBadge(t.kind), launcherBadge(t), " ", el("span", { class: "mono" }, t.comm || "?"),
        " pid " + pidText(t) + " · tgid " + t.tgid + " ", mmChip(t.mm));
      for (const ex of t.execs) {
        li.appendChild(el("span", { class: "exec" }, "→ exec ", el("span", { class: "mono" }, ex.filename), " ", mmChip(ex.mm)));
      }
      if (t.exit_signal !== null) li.appendChild(el("span", { class: "exec" }, "killed by signal " + t.exit_signal));
      const kids = children.get(t.index) || [];
      if (kids.length) {
        const ul = el("ul", { class: "tree" });
        for (const k of kids) {
          if (++shown > TREE_LIMIT) { ul.appendChild(el("li", { class: "note" }, "… more tasks: see the table below")); break; }
          ul.appendChild(node(k));
        }
        li.appendChild(ul);
      }
      return li;
    }
    const top = el("ul", { class: "tree" });
    for (const r of roots) { if (++shown > TREE_LIMIT) break; top.appendChild(node(r)); }
    s.appendChild(top);
  }

  // ---------- 3. TGID vs PID table ----------
  const TABLE_LIMIT = 3000;
  function tableSection() {
    const s = section("ids", "3. TGID vs PID: what getpid() and gettid() really are",
      explainFrom(["ids"], "") + " getpid() returns the tgid (the thread group), gettid() the pid (the task); getppid() the ppid at creation (until the parent's thread group exits: the kernel then reparents the task).");
    // The key columns first, so a narrow page shows them without scrolling.
    const columns = [
      ["pid", t => t.pid, true, null, pidText], ["tgid", t => t.tgid, true], ["comm", t => t.comm, false], ["kind", t => t.kind, false],
      ["mm", t => t.mm, false], ["ppid at creation", t => t.ppid, true, null, ppidText], ["parent", t => t.parent_pid, true],
      ["mm now", t => currentMm(t), false],
      ["created", t => t.created_ns, true, fmt], ["exited", t => t.exited_ns, true, fmt],
      ["exit", t => t.exit_signal !== null ? "signal " + t.exit_signal : t.exit_code, false],
      ["first run", t => t.latency_ns.first_run, true, fmt], ["syscall", t => t.latency_ns.syscall, true, fmt],
      ["on CPU", t => t.oncpu_ns, true, fmt], ["CPUs", t => Object.keys(t.cpus).join(","), false],
      ["migrations", t => t.migrations, true],
    ];
    // Tasks in a child PID namespace see other ids than the kernel's: show them beside.
    if (tasks.some(t => t.pid_namespace)) {
      const nsId = field => t => t.pid_namespace ? t.pid_namespace[field] : "";
      columns.splice(5, 0, ["pid in ns", nsId("pid"), true], ["tgid in ns", nsId("tgid"), true],
        ["ppid in ns at creation", nsId("ppid"), true], ["pid ns", nsId("inode"), false]);
    }
    const filter = el("input", { type: "search", placeholder: "filter: comm, pid, kind, mm…", "aria-label": "filter tasks" });
    const collapsed = new Set();
    let sortCol = -1, sortDir = 1;
    const collapseAll = el("button", { onclick: () => { for (const t of tasks) if (t.pid === t.tgid) collapsed.add(t.tgid); render(); } }, "collapse thread groups");
    const expandAll = el("button", { onclick: () => { collapsed.clear(); render(); } }, "expand all");
    s.appendChild(el("div", { class: "toolbar" }, filter, collapseAll, expandAll));
    const thead = el("tr", {});
    columns.forEach(([name], i) => thead.appendChild(el("th", { "data-column": name, onclick: () => { sortDir = sortCol === i ? -sortDir : 1; sortCol = i; render(); } }, name)));
    const tbody = el("tbody", {});
    const note = el("p", { class: "note" });
    s.appendChild(el("div", { class: "tablewrap" }, el("table", { id: "task-table" }, el("thead", {}, thead), tbody)));
    s.appendChild(note);
    const groupSize = new Map();
    for (const t of tasks) groupSize.set(t.tgid, (groupSize.get(t.tgid) || 0) + 1);

    function render() {
      const needle = filter.value.trim().toLowerCase();
      let rows = tasks.filter(t => !needle || [t.pid, tidBeforeExec(t), t.tgid, t.ppid, t.comm, t.kind, t.mm, currentMm(t)].some(v => v !== null && String(v).toLowerCase().includes(needle)));
      if (sortCol >= 0) {
        const get = columns[sortCol][1];
        rows.sort((a, b) => { const x = get(a), y = get(b); return (x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1) * sortDir; });
      } else {
        // Thread groups together: the leader, then its threads.
        rows.sort((a, b) => a.tgid - b.tgid || (a.pid === a.tgid ? -1 : b.pid === b.tgid ? 1 : a.index - b.index));
      }
      thead.querySelectorAll("th").forEach((th, i) => th.className = i === sortCol ? (sortDir > 0 ? "sorted-asc" : "sorted-desc") : "");
      tbody.textContent = "";
      let count = 0;
      for (const t of rows) {
        const leader = t.pid === t.tgid;
        if (!leader && collapsed.has(t.tgid) && sortCol < 0) continue;
        if (++count > TABLE_LIMIT) break;
        const tr = el("tr", { class: leader ? "leader" : "member" });
        columns.forEach(([name, get, numeric, show, cell], i) => {
          const v = get(t);
          const td = el("td", { class: numeric ? "num" : "" });
          if (i === 0 && leader && groupSize.get(t.tgid) > 1 && sortCol < 0) {
            const open = !collapsed.has(t.tgid);
            td.appendChild(el("button", { title: "show/hide this thread group's threads", onclick: () => { open ? collapsed.add(t.tgid) : collapsed.delete(t.tgid); render(); } }, open ? "−" : "+"));
            td.appendChild(document.createTextNode(" "));
          }
          if (name === "mm" || name === "mm now") td.appendChild(mmChip(v));
          else if (name === "kind") td.append(kindBadge(v), launcherBadge(t));
          else if (cell) td.appendChild(document.createTextNode(cell(t)));
          else td.appendChild(document.createTextNode(v === null || v === undefined ? "–" : show ? show(v) : String(v)));
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      }
      note.textContent = rows.length + " of " + tasks.length + " tasks match" + (count > TABLE_LIMIT ? "; the first " + TABLE_LIMIT + " are shown" : "") + ".";
    }
    filter.addEventListener("input", render);
    render();
  }

  // ---------- 4. core placement ----------
  function placementSection() {
    const s = section("placement", "4. Where and when did each task run?",
      explainFrom(["placement", "ipc", "exit"], "No traced task was seen on a CPU."));
    s.appendChild(el("h3", {}, "Timeline: one lane per CPU, then one per task"));
    s.appendChild(el("p", { class: "note" }, "Each bar is a traced task on a CPU. Every process has a colour of its own; its threads are " +
      "lighter and darker shades of it. Scroll to zoom, drag to pan, double-click to reset; hover for details."));
    timeline(s);
    s.appendChild(el("h3", {}, "How many traced tasks were on a CPU at once"));
    parallelismChart(s);
    s.appendChild(el("h3", {}, "CPU residency per task"));
    residency(s);
  }

  // Time axis ticks for a view: about one per 100 px, the outer ones
  // anchored inside the plot so that their labels are never cut.
  function timeTicks(group, view, x, plotLeft, plotRight, y0, y1, labelY) {
    const span = view[1] - view[0];
    const n = Math.max(2, Math.min(8, Math.floor((plotRight - plotLeft) / 100)));
    for (let i = 0; i <= n; i++) {
      const t = view[0] + span * i / n, px = x(t);
      group.appendChild(svg("line", { x1: px, x2: px, y1: y0, y2: y1, stroke: "#eef1f5" }));
      const text = fmt(t), w = textWidth(text);
      const x0 = i === 0 ? px : i === n ? px - w : px - w / 2;
      group.appendChild(label({ x: x0, y: labelY }, text, x0 + w + 1));
    }
  }
  function rectPath(x, y, w, h) { return "M" + x.toFixed(1) + " " + y.toFixed(1) + "h" + w.toFixed(1) + "v" + h.toFixed(1) + "h" + (-w).toFixed(1) + "z"; }
  // One path for a lane: per pixel column a height fraction (0: nothing),
  // bars bottom-aligned in [y, y + h), a run of equal columns one rectangle.
  // Any time on a CPU is at least 3 px high, so that it stands out.
  function columnsPath(cols, left, y, h) {
    const height = v => v > 0 ? Math.max(3, Math.round(v * h)) : 0;
    let d = "";
    for (let c = 0; c < cols.length;) {
      const px = height(cols[c]);
      let e = c + 1;
      while (e < cols.length && height(cols[e]) === px) e++;
      if (px) d += rectPath(left + c, y + h - px, e - c, px);
      c = e;
    }
    return d;
  }

  const GROUPS_PAGE = 40, LANES_PAGE = 32, OPEN_LANES = 64;
  function timeline(parent) {
    const cpus = Math.max(1, data.run.cpus);
    const duration = Math.max(1, data.run.duration_ns);
    const tl = data.timeline;
    // Per CPU, intervals sorted by start: [task, start, end].
    const cpuLanes = Array.from({ length: cpus }, () => []);
    // Per task lane, either its intervals (flat cpu, start, end, by start)
    // or, for a binned run, its share of each bin: a digit 0-9 per bin.
    const taskRuns = tl.mode === "intervals" ? tasks.map(() => []) : null;
    const taskBins = tl.mode === "bins" ? tl.task_lanes : null;
    const taskLevels = new Map();  // task -> {from: first bin, levels: string}
    // Per task lane, its stretches off a CPU (flat label, start, woken, end,
    // waker, by start) when the page has them.
    const taskOff = tl.off_cpu ? tasks.map(() => []) : null;
    const offLabels = tl.off_cpu_labels || [];
    const notes = [];
    if (tl.mode === "intervals") {
      const f = tl.intervals;
      for (let i = 0; i + 3 < f.length; i += 4) {
        const task = f[i], cpu = f[i + 1], start = f[i + 2], end = f[i + 2] + f[i + 3];
        if (taskRuns[task]) taskRuns[task].push(cpu, start, end);
        if (cpu < cpus) cpuLanes[cpu].push([task, start, end]);
      }
      if (taskOff) {
        const o = tl.off_cpu;
        for (let i = 0; i + 5 < o.length; i += 6)
          if (taskOff[o[i]]) taskOff[o[i]].push(o[i + 1], o[i + 2], o[i + 2] + o[i + 3], o[i + 2] + o[i + 3] + o[i + 4], o[i + 5]);
      } else if (tl.off_cpu_total) {
        notes.push("This run had " + tl.off_cpu_total + " stretches off a CPU, too many to draw with its on-CPU intervals: the task lanes " +
          "show time on a CPU only. perfetto.pftrace has every stretch, named by what the task waited in.");
      }
    } else {
      const b = tl.binned;
      b.lanes.forEach((lane, cpu) => {
        if (cpu >= cpus) return;
        lane.task.forEach((task, i) => { if (task >= 0) cpuLanes[cpu].push([task, i * b.bin_ns, i * b.bin_ns + b.bin_ns * lane.permille[i] / 1000]); });
      });
      const l = taskBins.lanes;
      for (let i = 0; i + 2 < l.length; i += 3) taskLevels.set(l[i], { from: l[i + 1], levels: l[i + 2] });
      notes.push("This run had " + tl.intervals_total + " on-CPU intervals, too many to embed one by one: each CPU lane shows " + b.bins +
        " bins (in each, the task that ran most), each task lane " + taskBins.bins + " bins of " + fmt(taskBins.bin_ns) +
        " (taller: more of the bin on a CPU). perfetto.pftrace has every interval, and the time off a CPU by what each task waited in.");
    }
    const covered = taskBins ? taskBins.tasks_covered : tasks.length;
    if (covered < tasks.length)
      notes.push("Task lanes cover the first " + covered + " of " + tasks.length + " tasks (in creation order), to keep this page small; " +
        "the table above lists them all.");
    // Process groups with their tasks that have a lane.
    const laneGroups = groups.map(g => ({ g, rank: g.rank, members: g.members.filter(i => i < covered) })).filter(lg => lg.members.length);

    // A stretch's label ("Sleeping: futex lock1") -> how its lane draws it.
    function offClass(label) {
      const state = label.split(":")[0];
      return state === "Runnable" ? "runnable" : state === "Sleeping" ? "sleeping" : state === "Blocked" ? "blocked" : "other";
    }
    const OFF_DRAW = [["sleeping", 0.3], ["blocked", 0.3], ["other", 0.3], ["runnable", 0.6]];  // class, height fraction
    // Who ended a wait: a task's index, -1 outside the trace, -2 not known.
    function wakerText(waker) {
      if (waker === -1) return "outside the trace (another program, an interrupt, a timer)";
      return waker >= 0 && tasks[waker] ? taskLabel(tasks[waker]) : "not seen";
    }
    if (taskOff) {
      const key = el("div", { class: "legend", id: "state-legend" }, "Task lanes:");
      const swatch = (cls, text) => { const sw = el("span", { class: "swatch " + (cls === "oncpu" ? "state-oncpu" : "st-" + cls) }); key.appendChild(el("span", {}, sw, text)); };
      swatch("oncpu", "on a CPU (its process's colour)");
      swatch("runnable", "runnable: waiting for a CPU");
      swatch("sleeping", "sleeping (in a system call, or not)");
      if (offLabels.some(l => offClass(l) === "blocked")) swatch("blocked", "blocked (uninterruptible: disk, page faults)");
      if (offLabels.some(l => offClass(l) === "other")) swatch("other", "other (stopped, traced, ...)");
      notes.push(key);
    }

    const state = { view: [0, duration], open: new Set(), shown: new Map(), groupsShown: GROUPS_PAGE };
    // Small runs start with every process open; large ones with the first
    // few, the rest a row each until clicked.
    let opened = 0;
    for (const lg of laneGroups.slice(0, GROUPS_PAGE)) {
      if (lg.members.length < 2) continue;
      if (opened >= OPEN_LANES) break;
      state.open.add(lg.rank);
      opened += Math.min(lg.members.length, LANES_PAGE);
    }

    const controls = el("div", { class: "toolbar" });
    parent.appendChild(controls);
    for (const n of notes) parent.appendChild(typeof n === "string" ? el("p", { class: "note aggregated" }, n) : n);
    let current = { draw() {} };
    const setView = v => { state.view = v; current.draw(); };
    const zoomBy = factor => {
      const [a0, a1] = state.view, span = a1 - a0, ns = Math.min(duration, Math.max(1000, span * factor));
      const a = Math.max(0, Math.min(duration - ns, a0 + (span - ns) / 2));
      setView([a, a + ns]);
    };
    controls.appendChild(el("button", { onclick: () => setView([0, duration]) }, "reset zoom"));
    controls.appendChild(el("button", { onclick: () => zoomBy(0.5) }, "zoom in"));
    controls.appendChild(el("button", { onclick: () => zoomBy(2) }, "zoom out"));
    const range = el("span", { class: "note" });
    controls.appendChild(range);
    // The boxes' 1 px borders are inside the width: the charts stay unscaled.
    sized(parent, (holder, width) => { current = drawTimeline(holder, width - 2); current.draw(); });

    const legend = el("div", { class: "legend", id: "process-legend" });
    groups.slice(0, 30).forEach(g => {
      const leader = tasks[g.leader], sw = el("span", { class: "swatch" });
      sw.style.background = processColor(g.rank);
      legend.appendChild(el("span", { "data-group": g.rank }, sw, "tgid " + leader.tgid + " " + leader.comm));
    });
    if (groups.length > 30) legend.appendChild(el("span", { class: "note" }, "… " + (groups.length - 30) + " more processes"));
    parent.appendChild(legend);

    // The first of count intervals that ends after t. Intervals of one CPU
    // or one task are sorted by start and do not overlap: their ends are sorted too.
    function firstEndingAfter(count, endAt, t) {
      let lo = 0, hi = count;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (endAt(mid) <= t) lo = mid + 1; else hi = mid; }
      return lo;
    }

    // The two charts at one width; returns {draw} for the current view.
    function drawTimeline(holder, width) {
      const left = Math.round(Math.max(150, Math.min(200, width * 0.22))), right = 10, plotW = Math.max(50, width - left - right);
      const laneH = 34, axisH = 24, cpuH = laneH * cpus + axisH;
      const cpuSvg = svg("svg", { id: "timeline", width: width, height: cpuH, viewBox: "0 0 " + width + " " + cpuH });
      holder.appendChild(el("div", { id: "timeline-box", class: "timeline-box" }, cpuSvg));
      const cpuAxis = svg("g", { class: "axis" }), cpuBars = svg("g", {});
      cpuSvg.appendChild(cpuAxis);
      cpuSvg.appendChild(cpuBars);
      for (let c = 0; c < cpus; c++) {
        cpuSvg.appendChild(label({ x: 6, y: c * laneH + laneH / 2 + 4, style: "fill:#1d2330" }, "CPU " + c, left - 6, "600"));
        cpuAxis.appendChild(svg("line", { x1: left, x2: width - right, y1: (c + 1) * laneH, y2: (c + 1) * laneH, stroke: "#eef1f5" }));
      }
      const cpuTicks = svg("g", {});
      cpuAxis.appendChild(cpuTicks);

      holder.appendChild(el("p", { class: "note" }, "One lane per task, grouped by process (" + plural(laneGroups.length, "process", "processes") +
        ", " + plural(Math.min(covered, tasks.length), "task", "tasks") + "): click a process to show or hide its tasks. A process's own row " +
        "shows how many of its tasks were on a CPU (full height: " + (cpus === 1 ? "the CPU" : "all " + cpus + " CPUs") +
        "); a task's thin line is its lifetime, its bars its time on a CPU" + (taskOff ? ", its lower bands its time off one (the key above; hover for what it waited in and who woke it)." : ".")));
      const laneSvg = svg("svg", { id: "task-lanes", width: width, "data-off-cpu": taskOff ? "yes" : "no" });
      holder.appendChild(el("div", { id: "task-lanes-box", class: "timeline-box" }, laneSvg));

      let x = t => t, v0 = 0, v1 = duration, span = duration;
      function pixelsOf(from, to) {  // columns [a, b] of the plot that [from, to) touches
        return [Math.max(0, Math.floor(x(from) - left)), Math.min(plotW - 1, Math.floor(x(to) - left))];
      }
      function drawCpus() {
        cpuBars.textContent = "";
        cpuTicks.textContent = "";
        timeTicks(cpuTicks, state.view, x, left, left + plotW, 0, cpuH - axisH, cpuH - 6);
        cpuLanes.forEach((lane, cpu) => {
          // Per pixel column, the task covering most of it: one rect per run
          // of columns, so drawing cost is bounded by the width, not the trace.
          const cols = new Int32Array(plotW).fill(-1), cover = new Float64Array(plotW);
          for (let i = firstEndingAfter(lane.length, k => lane[k][2], v0); i < lane.length && lane[i][1] < v1; i++) {
            const [task, s0, s1] = lane[i];
            const [a, b] = pixelsOf(s0, s1);
            for (let c = a; c <= b; c++) {
              const lo = Math.max(s0, v0 + c / plotW * span), hi = Math.min(s1, v0 + (c + 1) / plotW * span);
              if (hi - lo > cover[c]) { cover[c] = hi - lo; cols[c] = task; }
            }
          }
          for (let c = 0; c < plotW;) {
            const task = cols[c];
            let e = c + 1;
            while (e < plotW && cols[e] === task) e++;
            if (task >= 0) {
              const t = tasks[task];
              const rect = svg("rect", { x: left + c, y: cpu * laneH + 4, width: e - c, height: laneH - 8, fill: taskColor(t), "data-task": task });
              const from = v0 + c / plotW * span, to = v0 + e / plotW * span;
              rect.addEventListener("mousemove", ev => showTip(ev, taskLabel(t) + "\nCPU " + cpu + ", " + fmt(from) + " – " + fmt(to) +
                "\non CPU in total: " + fmt(t.oncpu_ns) + ", migrations: " + t.migrations));
              rect.addEventListener("mouseleave", hideTip);
              cpuBars.appendChild(rect);
            }
            c = e;
          }
        });
      }

      // Per pixel column of the view: 1 where the task was on a CPU, or
      // for a binned run the largest share of a bin there.
      function taskColumns(task) {
        const cols = new Float32Array(plotW);
        if (taskRuns) {
          const runs = taskRuns[task], n = runs.length / 3;
          for (let i = firstEndingAfter(n, k => runs[3 * k + 2], v0); i < n && runs[3 * i + 1] < v1; i++) {
            const [a, b] = pixelsOf(runs[3 * i + 1], runs[3 * i + 2]);
            for (let c = a; c <= b; c++) cols[c] = 1;
          }
        } else {
          const lane = taskLevels.get(task);
          if (lane) binsToColumns(cols, lane.from, lane.levels.length, b => (lane.levels.charCodeAt(b - lane.from) - 48) / 9);
        }
        return cols;
      }
      function binsToColumns(cols, from, count, valueOf) {
        const bn = taskBins.bin_ns;
        const first = Math.max(from, Math.floor(v0 / bn)), last = Math.min(from + count - 1, Math.floor(v1 / bn));
        for (let b = first; b <= last; b++) {
          const v = valueOf(b);
          if (!v) continue;
          const [a, e] = pixelsOf(b * bn, (b + 1) * bn);
          for (let c = a; c <= e; c++) cols[c] = Math.max(cols[c], v);
        }
      }
      // Per pixel column: how many of the process's tasks were on a CPU on
      // average, as a share of the CPUs.
      const groupBins = new Map();
      function groupColumns(lg) {
        const cols = new Float32Array(plotW);
        if (taskRuns) {
          const colNs = span / plotW;
          for (const task of lg.members) {
            const runs = taskRuns[task], n = runs.length / 3;
            for (let i = firstEndingAfter(n, k => runs[3 * k + 2], v0); i < n && runs[3 * i + 1] < v1; i++) {
              const s0 = runs[3 * i + 1], s1 = runs[3 * i + 2], [a, b] = pixelsOf(s0, s1);
              for (let c = a; c <= b; c++)
                cols[c] += Math.max(0, Math.min(s1, v0 + (c + 1) * colNs) - Math.max(s0, v0 + c * colNs)) / colNs / cpus;
            }
          }
          for (let c = 0; c < plotW; c++) cols[c] = Math.min(1, cols[c]);
        } else {
          if (!groupBins.has(lg.rank)) {
            const sum = new Float32Array(taskBins.bins);
            for (const task of lg.members) {
              const lane = taskLevels.get(task);
              if (!lane) continue;
              for (let k = 0; k < lane.levels.length; k++) sum[lane.from + k] += (lane.levels.charCodeAt(k) - 48) / 9 / cpus;
            }
            groupBins.set(lg.rank, sum);
          }
          const sum = groupBins.get(lg.rank);
          binsToColumns(cols, 0, sum.length, b => Math.min(1, sum[b]));
        }
        return cols;
      }

      // The lanes' rows for the open processes, top to bottom.
      const axisTop = 22, groupH = 32, taskH = 18, moreH = 22;
      function layout() {
        const rows = [];
        let y = axisTop;
        for (const lg of laneGroups.slice(0, state.groupsShown)) {
          rows.push({ type: "group", lg, y, h: groupH });
          y += groupH;
          if (lg.members.length < 2 || !state.open.has(lg.rank)) continue;
          const shown = Math.min(lg.members.length, state.shown.get(lg.rank) || LANES_PAGE);
          for (const task of lg.members.slice(0, shown)) { rows.push({ type: "lane", lg, task, y, h: taskH }); y += taskH; }
          if (shown < lg.members.length) { rows.push({ type: "more", lg, y, h: moreH, hidden: lg.members.length - shown }); y += moreH; }
        }
        if (laneGroups.length > state.groupsShown) { rows.push({ type: "more-groups", y, h: moreH, hidden: laneGroups.length - state.groupsShown }); y += moreH; }
        return { rows, height: y + 4 };
      }
      let rows = [];
      function drawLanes() {
        const lay = layout();
        rows = lay.rows;
        laneSvg.setAttribute("height", lay.height);
        laneSvg.setAttribute("viewBox", "0 0 " + width + " " + lay.height);
        laneSvg.textContent = "";
        const grid = svg("g", { class: "grid" });
        laneSvg.appendChild(grid);
        for (const row of rows) if (row.type === "group")
          grid.appendChild(svg("rect", { x: 0, y: row.y, width: width, height: row.h, fill: "#f6f8fb" }));
        timeTicks(grid, state.view, x, left, left + plotW, axisTop - 6, lay.height, 14);
        for (const row of rows) {
          const g = svg("g", { class: "row-" + row.type });
          laneSvg.appendChild(g);
          if (row.type === "group") {
            const lg = row.lg, leader = tasks[lg.members[0]];
            const expandable = lg.members.length > 1, open = state.open.has(lg.rank);
            g.setAttribute("data-group", lg.rank);
            if (expandable) g.setAttribute("data-open", open ? "yes" : "no");
            g.appendChild(svg("line", { x1: 0, x2: width, y1: row.y, y2: row.y, stroke: "#d8dde6" }));
            const line2 = expandable ? "tgid " + leader.tgid + " · " + lg.members.length + " tasks" : "pid " + leader.pid + " · " + leader.kind;
            g.appendChild(label({ x: 4, y: row.y + 13, style: "fill:#1d2330" }, (expandable ? (open ? "▾ " : "▸ ") : "") + (leader.comm || "?"), left - 6, "600"));
            g.appendChild(label({ x: expandable ? 15 : 4, y: row.y + 27 }, line2, left - 6));
            if (expandable) {
              g.appendChild(svg("path", { d: columnsPath(groupColumns(lg), left, row.y + 5, row.h - 9), fill: processColor(lg.rank) }));
            } else {
              g.setAttribute("data-task", lg.members[0]);
              drawTask(g, lg.members[0], row.y + 5, row.h - 9);
            }
          } else if (row.type === "lane") {
            const t = tasks[row.task];
            g.setAttribute("data-task", row.task);
            g.appendChild(label({ x: 15, y: row.y + 13 }, t.pid + " " + (t.comm || "?"), left - 6));
            drawTask(g, row.task, row.y + 3, row.h - 5);
          } else {
            const what = row.type === "more" ? plural(row.hidden, "more task", "more tasks") + " of this process"
              : plural(row.hidden, "more process", "more processes");
            g.appendChild(label({ x: 15, y: row.y + 15, style: "fill:#3056d3" },
              "▸ " + what + ": show " + Math.min(row.hidden, row.type === "more" ? LANES_PAGE : GROUPS_PAGE) + " more", width - 4));
          }
        }
      }
      // Per class of OFF_DRAW, per pixel column of the view: the task's
      // time off a CPU there (1 where any; its lane draws it at a fixed height).
      function offColumns(task) {
        const cols = {};
        for (const [cls] of OFF_DRAW) cols[cls] = new Float32Array(plotW);
        const off = taskOff[task], n = off.length / 5;
        const mark = (cls, from, to) => {
          if (to <= from) return;
          const [a, b] = pixelsOf(Math.max(from, v0), Math.min(to, v1));
          for (let c = a; c <= b; c++) cols[cls][c] = 1;
        };
        for (let i = firstEndingAfter(n, k => off[5 * k + 3], v0); i < n && off[5 * i + 1] < v1; i++) {
          const cls = offClass(offLabels[off[5 * i]]);
          if (cls === "runnable") mark(cls, off[5 * i + 1], off[5 * i + 3]);
          else { mark(cls, off[5 * i + 1], off[5 * i + 2]); mark("runnable", off[5 * i + 2], off[5 * i + 3]); }
        }
        return cols;
      }
      function drawTask(g, task, y, h) {
        const t = tasks[task];
        const born = t.created_ns === null ? 0 : t.created_ns, gone = t.exited_ns === null ? duration : t.exited_ns;
        if (gone >= v0 && born <= v1) {
          const a = Math.max(left, x(born)), b = Math.min(left + plotW, x(gone));
          g.appendChild(svg("rect", { class: "lifetime", x: a, y: y + h / 2 - 1, width: Math.max(1, b - a), height: 2, fill: "#bcc3cf" }));
        }
        if (taskOff && taskOff[task].length) {
          const cols = offColumns(task);
          for (const [cls, fraction] of OFF_DRAW) {
            const d = columnsPath(cols[cls].map(v => v * fraction), left, y, h);
            if (d) g.appendChild(svg("path", { class: "st-" + cls, d: d }));
          }
        }
        const d = columnsPath(taskColumns(task), left, y, h);
        if (d) g.appendChild(svg("path", { class: "oncpu", d: d, fill: taskColor(t) }));
      }

      function rowAt(py) { return rows.find(r => py >= r.y && py < r.y + r.h); }
      function timeAt(px) { return v0 + (px - left) / plotW * span; }
      function laneTip(task, t) {
        const info = tasks[task];
        let text = taskLabel(info) + "\nexisted " + fmt(info.created_ns === null ? 0 : info.created_ns) + " – " +
          (info.exited_ns === null ? "end" : fmt(info.exited_ns)) + "; on CPU in total " + fmt(info.oncpu_ns);
        if (taskRuns) {
          const runs = taskRuns[task], n = runs.length / 3, tol = span / plotW;
          const i = firstEndingAfter(n, k => runs[3 * k + 2], t - tol);
          if (i < n && runs[3 * i + 1] <= t + tol)
            text += "\non CPU " + runs[3 * i] + " " + fmt(runs[3 * i + 1]) + " – " + fmt(runs[3 * i + 2]);
          else text += offTip(task, t, tol);
        } else {
          const lane = taskLevels.get(task), b = Math.floor(t / taskBins.bin_ns);
          const level = lane && b >= lane.from && b < lane.from + lane.levels.length ? lane.levels.charCodeAt(b - lane.from) - 48 : 0;
          text += "\n" + fmt(b * taskBins.bin_ns) + " – " + fmt((b + 1) * taskBins.bin_ns) + ": on a CPU " +
            (level ? "up to " + Math.round(100 * level / 9) + "% of the time" : "not at all");
        }
        return text;
      }
      // What the task was doing off a CPU around t: the wait (what it waited
      // in, how long, who ended it) and the runnable time after it.
      function offTip(task, t, tol) {
        const off = taskOff ? taskOff[task] : [], n = off.length / 5;
        const i = firstEndingAfter(n, k => off[5 * k + 3], t - tol);
        if (i >= n || off[5 * i + 1] > t + tol) {
          const info = tasks[task];
          if (info.exited_ns !== null && t > info.exited_ns) return "\nexited at " + fmt(info.exited_ns);
          if (info.created_ns !== null && t < info.created_ns) return "\nnot created yet at " + fmt(t);
          return "\nnot on a CPU at " + fmt(t);
        }
        const label = offLabels[off[5 * i]], start = off[5 * i + 1], woken = off[5 * i + 2], end = off[5 * i + 3];
        let text = "";
        if (offClass(label) !== "runnable" && woken > start)
          text += "\n" + label + " " + fmt(start) + " – " + fmt(woken) + " (" + fmt(woken - start) + "), ended by " + wakerText(off[5 * i + 4]);
        if (end > woken || offClass(label) === "runnable")
          text += "\nrunnable (waiting for a CPU) " + fmt(offClass(label) === "runnable" ? start : woken) + " – " + fmt(end) +
            " (" + fmt(end - (offClass(label) === "runnable" ? start : woken)) + ")";
        return text;
      }
      function hover(ev, r) {
        const px = (ev.clientX - r.left), py = (ev.clientY - r.top);
        const row = rowAt(py);
        if (!row) return hideTip();
        if (row.type === "lane") return px >= left ? showTip(ev, laneTip(row.task, timeAt(px))) : showTip(ev, taskLabel(tasks[row.task]));
        if (row.type === "group") {
          if (row.lg.members.length < 2) return showTip(ev, laneTip(row.lg.members[0], timeAt(px)));
          const leader = tasks[row.lg.members[0]], threads = row.lg.members.filter(i => tasks[i].kind === "thread").length;
          return showTip(ev, "process " + leader.comm + " (tgid " + leader.tgid + "): " + row.lg.members.length + " tasks, " + threads +
            " of them threads; click to " + (state.open.has(row.lg.rank) ? "hide" : "show") + " a lane for each");
        }
        hideTip();
      }
      function click(py) {
        const row = rowAt(py);
        if (!row) return;
        if (row.type === "group" && row.lg.members.length > 1) {
          if (state.open.has(row.lg.rank)) state.open.delete(row.lg.rank); else state.open.add(row.lg.rank);
        } else if (row.type === "more") {
          state.shown.set(row.lg.rank, (state.shown.get(row.lg.rank) || LANES_PAGE) + LANES_PAGE);
        } else if (row.type === "more-groups") {
          state.groupsShown += GROUPS_PAGE;
        } else return;
        drawLanes();
      }

      // Zoom with the wheel, pan by dragging, reset with a double click; a
      // click without a drag opens or closes a process.
      for (const node of [cpuSvg, laneSvg]) {
        node.addEventListener("wheel", e => {
          e.preventDefault();
          const r = node.getBoundingClientRect();
          const at = Math.min(1, Math.max(0, (e.clientX - r.left - left) / plotW));
          const sp = state.view[1] - state.view[0], pivot = state.view[0] + sp * at;
          const ns = Math.min(duration, Math.max(1000, sp * (e.deltaY < 0 ? 0.8 : 1.25)));
          const a = Math.max(0, Math.min(duration - ns, pivot - ns * at));
          setView([a, a + ns]);
        }, { passive: false });
        let drag = null;
        node.addEventListener("pointerdown", e => { drag = { x: e.clientX, view: state.view.slice(), moved: false }; });
        node.addEventListener("pointermove", e => {
          if (node === laneSvg && !drag) hover(e, node.getBoundingClientRect());
          if (!drag) return;
          if (!drag.moved && Math.abs(e.clientX - drag.x) < 4) return;
          if (!drag.moved) { drag.moved = true; node.setPointerCapture(e.pointerId); }
          const sp = drag.view[1] - drag.view[0], dt = (e.clientX - drag.x) / plotW * sp;
          const a = Math.max(0, Math.min(duration - sp, drag.view[0] - dt));
          setView([a, a + sp]);
        });
        node.addEventListener("pointerup", e => {
          const wasDrag = drag && drag.moved;
          drag = null;
          if (!wasDrag && node === laneSvg) click(e.clientY - node.getBoundingClientRect().top);
        });
        node.addEventListener("pointerleave", hideTip);
        node.addEventListener("dblclick", e => {
          // A double click on a process row opens and closes it; elsewhere it resets the zoom.
          const row = node === laneSvg ? rowAt(e.clientY - node.getBoundingClientRect().top) : null;
          if (!row || row.type === "lane") setView([0, duration]);
        });
      }

      return {
        draw() {
          [v0, v1] = state.view;
          span = v1 - v0;
          x = t => left + (t - v0) / span * plotW;
          drawCpus();
          drawLanes();
          range.textContent = "showing " + fmt(v0) + " – " + fmt(v1);
        },
      };
    }
  }

  function parallelismChart(parent) {
    const series = data.parallelism_series;
    const peak = Math.max(1, data.summary.max_parallelism, ...series.max);
    sized(parent, (holder, width) => {
      const height = 140, left = 34, right = 10, bottom = 22;
      const g = svg("svg", { id: "parallelism", viewBox: "0 0 " + width + " " + height, width: width, height: height });
      const x = i => left + i / series.avg.length * (width - left - right);
      const y = v => (height - bottom) - v / peak * (height - bottom - 8);
      const every = Math.max(1, Math.ceil(peak / 6));  // at most 7 labels on the count axis
      for (let k = 0; k <= peak; k++) {
        g.appendChild(svg("line", { x1: left, x2: width - right, y1: y(k), y2: y(k), stroke: "#eef1f5" }));
        if (k % every === 0) {
          const text = String(k), w = textWidth(text);
          g.appendChild(label({ x: left - 6 - w, y: y(k) + 4 }, text, left - 5));
        }
      }
      let area = "M" + x(0) + "," + y(0), maxLine = "";
      series.avg.forEach((v, i) => { area += " L" + x(i) + "," + y(v) + " L" + x(i + 1) + "," + y(v); });
      area += " L" + x(series.avg.length) + "," + y(0) + " Z";
      series.max.forEach((v, i) => { maxLine += (i ? " L" : "M") + x(i) + "," + y(v) + " L" + x(i + 1) + "," + y(v); });
      g.appendChild(svg("path", { d: area, fill: "#6b8afd", "fill-opacity": 0.45, stroke: "none" }));
      g.appendChild(svg("path", { d: maxLine, fill: "none", stroke: "#1d2330", "stroke-width": 1, "stroke-opacity": 0.6 }));
      g.appendChild(label({ x: left, y: height - 4 }, "0", left + textWidth("0") + 1));
      const end = fmt(data.run.duration_ns), w = textWidth(end);
      g.appendChild(label({ x: width - right - w, y: height - 4 }, end, width - right + 1));
      holder.appendChild(g);
    });
    const p = data.summary.parallelism_ns, total = Object.values(p).reduce((a, b) => a + b, 0) || 1;
    const parts = Object.keys(p).sort((a, b) => a - b).map(k => k + " on CPU: " + (100 * p[k] / total).toFixed(1) + "%");
    parent.appendChild(el("p", { class: "note" }, "Shaded: average number of traced tasks on a CPU; line: the most at any instant. Share of the run: " + parts.join(", ") + "."));
  }

  function cpuColor(c) { return "hsl(" + (c * 97 % 360) + ",50%,55%)"; }
  function residency(parent) {
    const ranked = tasks.filter(t => t.oncpu_ns > 0).sort((a, b) => b.oncpu_ns - a.oncpu_ns).slice(0, 40);
    if (!ranked.length) { parent.appendChild(el("p", { class: "note" }, "No task was seen on a CPU.")); return; }
    const cpus = Math.max(1, data.run.cpus);
    const names = ranked.map(t => (t.comm || "?") + " " + t.pid + " (" + t.kind + ")");
    const totals = ranked.map(t => fmt(t.oncpu_ns) + (t.migrations ? ", " + plural(t.migrations, "migration", "migrations") : ""));
    sized(parent, (holder, width) => {
      // The name column as wide as the longest name, up to a third of the
      // page; the bars leave room for the longest total after them.
      const left = Math.ceil(Math.min(width / 3, Math.max(...names.map(n => textWidth(n))) + 12));
      const room = Math.max(...totals.map(s => textWidth(s))) + 12;
      const rowH = 20, height = ranked.length * rowH + 6;
      const most = ranked[0].oncpu_ns, barsW = Math.max(40, width - left - room);
      const g = svg("svg", { id: "residency", viewBox: "0 0 " + width + " " + height, width: width, height: height });
      ranked.forEach((t, row) => {
        const yy = row * rowH + 4;
        g.appendChild(label({ x: 4, y: yy + 12 }, names[row], left - 6));
        let at = left;
        for (let c = 0; c < cpus; c++) {
          const ns = t.cpus[String(c)] || 0;
          if (!ns) continue;
          const w = ns / most * barsW;
          const r = svg("rect", { x: at, y: yy, width: Math.max(1, w), height: rowH - 6, fill: cpuColor(c) });
          r.addEventListener("mousemove", e => showTip(e, taskLabel(t) + "\nCPU " + c + ": " + fmt(ns)));
          r.addEventListener("mouseleave", hideTip);
          g.appendChild(r);
          at += w;
        }
        g.appendChild(label({ x: at + 6, y: yy + 12 }, totals[row], width));
      });
      holder.appendChild(g);
    });
    const legend = el("div", { class: "legend" });
    for (let c = 0; c < cpus; c++) {
      const sw = el("span", { class: "swatch" });
      sw.style.background = cpuColor(c);
      legend.appendChild(el("span", {}, sw, "CPU " + c));
    }
    parent.appendChild(legend);
  }

  latencySection();
  treeSection();
  tableSection();
  placementSection();
  redrawResized();
  document.body.setAttribute("data-rendered", "yes");
})();
