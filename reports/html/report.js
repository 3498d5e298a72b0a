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
  function groupColor(tgid) { return "hsl(" + hue(tgid).toFixed(0) + ",62%,48%)"; }
  function mmColor(mm) {
    const n = parseInt(String(mm || "mm0").slice(2), 10) || 0;
    return "hsl(" + hue(n * 7 + 3).toFixed(0) + ",55%,42%)";
  }
  function mmChip(mm) {
    const chip = el("span", { class: "chip", title: "address space " + (mm || "unknown") }, mm || "?");
    chip.style.background = mmColor(mm);
    return chip;
  }
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
      s.appendChild(stripPlot(kinds, metric));
    }
  }
  function quantile(sorted, p) {
    if (!sorted.length) return null;
    const rank = Math.max(1, Math.ceil(p / 100 * sorted.length));
    return sorted[Math.min(rank, sorted.length) - 1];
  }
  function stripPlot(kinds, metric) {
    const width = 1000, left = 90, right = 250, rowH = 56, top = 10;
    const height = top + rowH * kinds.length + 30;
    const values = {};
    let lo = Infinity, hi = 0;
    for (const k of kinds) {
      values[k] = tasks.filter(t => t.kind === k && !t.launcher && t.latency_ns[metric] !== null).map(t => ({ v: Math.max(1, t.latency_ns[metric]), t }));
      for (const { v } of values[k]) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (!isFinite(lo)) return el("p", { class: "note" }, "not measured");
    const l0 = Math.floor(Math.log10(lo)), l1 = Math.max(l0 + 1, Math.ceil(Math.log10(hi)));
    const x = v => left + (Math.log10(v) - l0) / (l1 - l0) * (width - left - right);
    const g = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    for (let p = l0; p <= l1; p++) {
      const px = x(Math.pow(10, p));
      g.appendChild(svg("line", { x1: px, x2: px, y1: top, y2: height - 24, stroke: "#e3e7ee" }));
      g.appendChild(svg("text", { x: px, y: height - 8, "text-anchor": "middle" }, fmt(Math.pow(10, p))));
    }
    kinds.forEach((k, row) => {
      const cy = top + row * rowH + rowH / 2;
      g.appendChild(svg("text", { x: 4, y: cy + 4, style: "font-weight:600;fill:#1d2330" }, k + " (" + values[k].length + ")"));
      values[k].forEach(({ v, t }, i) => {
        const dot = svg("circle", { cx: x(v), cy: cy - 10 + ((i * 7919) % 21), r: 3.2, fill: groupColor(t.tgid), "fill-opacity": 0.75 });
        dot.addEventListener("mousemove", e => showTip(e, taskLabel(t) + "\n" + metric + ": " + fmt(t.latency_ns[metric])));
        dot.addEventListener("mouseleave", hideTip);
        g.appendChild(dot);
      });
      const sorted = values[k].map(o => o.v).sort((a, b) => a - b);
      const marks = [["p50", 50, 2.5], ["p90", 90, 1.2], ["max", 100, 1.2]];
      for (const [name, q, weight] of marks) {
        const px = x(quantile(sorted, q));
        g.appendChild(svg("line", { x1: px, x2: px, y1: cy - 16, y2: cy + 14, stroke: "#1d2330", "stroke-width": weight, "stroke-dasharray": name === "max" ? "3,2" : "" }));
      }
      g.appendChild(svg("text", { x: width - right + 12, y: cy + 4, style: "fill:#1d2330" },
        marks.map(([name, q]) => name + " " + fmt(quantile(sorted, q))).join(" · ")));
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
    const columns = [
      ["pid", t => t.pid, true, null, pidText], ["tgid", t => t.tgid, true], ["ppid at creation", t => t.ppid, true, null, ppidText], ["parent", t => t.parent_pid, true],
      ["comm", t => t.comm, false], ["kind", t => t.kind, false], ["mm", t => t.mm, false], ["mm now", t => currentMm(t), false],
      ["created", t => t.created_ns, true, fmt], ["exited", t => t.exited_ns, true, fmt],
      ["exit", t => t.exit_signal !== null ? "signal " + t.exit_signal : t.exit_code, false],
      ["first run", t => t.latency_ns.first_run, true, fmt], ["syscall", t => t.latency_ns.syscall, true, fmt],
      ["on CPU", t => t.oncpu_ns, true, fmt], ["CPUs", t => Object.keys(t.cpus).join(","), false],
      ["migrations", t => t.migrations, true],
    ];
    // Tasks in a child PID namespace see other ids than the kernel's: show them beside.
    if (tasks.some(t => t.pid_namespace)) {
      const nsId = field => t => t.pid_namespace ? t.pid_namespace[field] : "";
      columns.splice(4, 0, ["pid in ns", nsId("pid"), true], ["tgid in ns", nsId("tgid"), true],
        ["ppid in ns at creation", nsId("ppid"), true], ["pid ns", nsId("inode"), false]);
    }
    const filter = el("input", { type: "search", placeholder: "filter: comm, pid, kind, mm…", "aria-label": "filter tasks" });
    const collapsed = new Set();
    let sortCol = -1, sortDir = 1;
    const collapseAll = el("button", { onclick: () => { for (const t of tasks) if (t.pid === t.tgid) collapsed.add(t.tgid); render(); } }, "collapse thread groups");
    const expandAll = el("button", { onclick: () => { collapsed.clear(); render(); } }, "expand all");
    s.appendChild(el("div", { class: "toolbar" }, filter, collapseAll, expandAll));
    const thead = el("tr", {});
    columns.forEach(([name], i) => thead.appendChild(el("th", { onclick: () => { sortDir = sortCol === i ? -sortDir : 1; sortCol = i; render(); } }, name)));
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
    s.appendChild(el("h3", {}, "Timeline: one lane per CPU"));
    s.appendChild(el("p", { class: "note" }, "Each bar is a traced task on a CPU, coloured by thread group. Scroll to zoom, drag to pan, double-click to reset; hover a bar for details."));
    timeline(s);
    s.appendChild(el("h3", {}, "How many traced tasks were on a CPU at once"));
    parallelismChart(s);
    s.appendChild(el("h3", {}, "CPU residency per task"));
    residency(s);
  }

  function timeline(parent) {
    const cpus = Math.max(1, data.run.cpus);
    const duration = Math.max(1, data.run.duration_ns);
    const laneH = 34, left = 60, right = 10, axisH = 24;
    const box = el("div", { id: "timeline-box" });
    const controls = el("div", { class: "toolbar" });
    parent.appendChild(controls);
    parent.appendChild(box);
    const width = Math.max(600, Math.min(1160, (app.clientWidth || 1160)));
    const height = laneH * cpus + axisH;
    const root = svg("svg", { id: "timeline", viewBox: "0 0 " + width + " " + height, width: width, height: height });
    box.appendChild(root);
    const bars = svg("g", {}), axis = svg("g", { class: "axis" });
    root.appendChild(axis);
    root.appendChild(bars);
    for (let c = 0; c < cpus; c++) {
      axis.appendChild(svg("text", { x: 6, y: c * laneH + laneH / 2 + 4, style: "font-weight:600;fill:#1d2330" }, "CPU " + c));
      axis.appendChild(svg("line", { x1: left, x2: width - right, y1: (c + 1) * laneH, y2: (c + 1) * laneH, stroke: "#eef1f5" }));
    }
    const ticks = svg("g", {});
    axis.appendChild(ticks);
    let view = [0, duration];
    const plotW = width - left - right;

    // Intervals per CPU lane, sorted by start: [task, start, end].
    const lanes = Array.from({ length: cpus }, () => []);
    const tl = data.timeline;
    if (tl.mode === "intervals") {
      const f = tl.intervals;
      for (let i = 0; i + 3 < f.length; i += 4) {
        const cpu = f[i + 1];
        if (cpu >= cpus) continue;
        lanes[cpu].push([f[i], f[i + 2], f[i + 2] + f[i + 3]]);
      }
    } else {
      const b = tl.binned;
      b.lanes.forEach((lane, cpu) => {
        if (cpu >= cpus) return;
        lane.task.forEach((task, i) => { if (task >= 0) lanes[cpu].push([task, i * b.bin_ns, i * b.bin_ns + b.bin_ns * lane.permille[i] / 1000]); });
      });
      controls.appendChild(el("span", { class: "note" }, "This run had " + tl.intervals_total + " on-CPU intervals: the timeline shows " + b.bins +
        " bins per CPU (the task that ran most in each). perfetto.pftrace has every interval."));
    }
    controls.appendChild(el("button", { onclick: () => { view = [0, duration]; draw(); } }, "reset zoom"));
    controls.appendChild(el("button", { onclick: () => zoom(0.5, 0.5) }, "zoom in"));
    controls.appendChild(el("button", { onclick: () => zoom(2, 0.5) }, "zoom out"));
    const range = el("span", { class: "note" });
    controls.appendChild(range);

    function firstEndingAfter(lane, t) {
      let lo = 0, hi = lane.length;
      // Lanes are sorted by start and intervals on one CPU do not overlap, so ends are sorted too.
      while (lo < hi) { const mid = (lo + hi) >> 1; if (lane[mid][2] <= t) lo = mid + 1; else hi = mid; }
      return lo;
    }
    function draw() {
      const [v0, v1] = view, span = v1 - v0;
      const x = t => left + (t - v0) / span * plotW;
      bars.textContent = "";
      ticks.textContent = "";
      for (let i = 0; i <= 8; i++) {
        const t = v0 + span * i / 8, px = x(t);
        ticks.appendChild(svg("line", { x1: px, x2: px, y1: 0, y2: height - axisH, stroke: "#f0f2f6" }));
        ticks.appendChild(svg("text", { x: px, y: height - 6, "text-anchor": i === 0 ? "start" : i === 8 ? "end" : "middle" }, fmt(t)));
      }
      lanes.forEach((lane, cpu) => {
        // Per pixel column, the task covering most of it: one rect per run
        // of columns, so drawing cost is bounded by the width, not the trace.
        const cols = new Int32Array(plotW).fill(-1), cover = new Float64Array(plotW);
        for (let i = firstEndingAfter(lane, v0); i < lane.length && lane[i][1] < v1; i++) {
          const [task, s0, s1] = lane[i];
          const a = Math.max(0, Math.floor(x(s0) - left)), b = Math.min(plotW - 1, Math.floor(x(s1) - left));
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
            const rect = svg("rect", { x: left + c, y: cpu * laneH + 4, width: Math.max(1, e - c), height: laneH - 8, fill: groupColor(t.tgid), "data-task": task });
            const from = v0 + c / plotW * span, to = v0 + e / plotW * span;
            rect.addEventListener("mousemove", ev => showTip(ev, taskLabel(t) + "\nCPU " + cpu + ", " + fmt(from) + " – " + fmt(to) +
              "\non CPU in total: " + fmt(t.oncpu_ns) + ", migrations: " + t.migrations));
            rect.addEventListener("mouseleave", hideTip);
            bars.appendChild(rect);
          }
          c = e;
        }
      });
      range.textContent = "showing " + fmt(v0) + " – " + fmt(v1);
    }
    function zoom(factor, at) {
      const span = view[1] - view[0], pivot = view[0] + span * at;
      let ns = Math.min(duration, Math.max(1000, span * factor));
      let a = pivot - ns * at;
      a = Math.max(0, Math.min(duration - ns, a));
      view = [a, a + ns];
      draw();
    }
    root.addEventListener("wheel", e => {
      e.preventDefault();
      const r = root.getBoundingClientRect();
      const at = Math.min(1, Math.max(0, ((e.clientX - r.left) * width / r.width - left) / plotW));
      zoom(e.deltaY < 0 ? 0.8 : 1.25, at);
    }, { passive: false });
    let drag = null;
    root.addEventListener("mousedown", e => { drag = { x: e.clientX, view: view.slice() }; });
    window.addEventListener("mouseup", () => { drag = null; });
    window.addEventListener("mousemove", e => {
      if (!drag) return;
      const r = root.getBoundingClientRect();
      const dt = (e.clientX - drag.x) * width / r.width / plotW * (drag.view[1] - drag.view[0]);
      const span = drag.view[1] - drag.view[0];
      const a = Math.max(0, Math.min(duration - span, drag.view[0] - dt));
      view = [a, a + span];
      draw();
    });
    root.addEventListener("dblclick", () => { view = [0, duration]; draw(); });
    draw();

    const legend = el("div", { class: "legend" });
    const groups = new Map();
    for (const t of tasks) if (!groups.has(t.tgid)) groups.set(t.tgid, t);
    let n = 0;
    for (const [tgid, t] of groups) {
      if (++n > 30) { legend.appendChild(el("span", { class: "note" }, "… " + (groups.size - 30) + " more thread groups")); break; }
      const sw = el("span", { class: "swatch" });
      sw.style.background = groupColor(tgid);
      legend.appendChild(el("span", {}, sw, "tgid " + tgid + " " + t.comm));
    }
    parent.appendChild(legend);
  }

  function parallelismChart(parent) {
    const series = data.parallelism_series;
    const width = 1000, height = 140, left = 40, bottom = 22;
    const peak = Math.max(1, data.summary.max_parallelism, ...series.max);
    const g = svg("svg", { id: "parallelism", viewBox: "0 0 " + width + " " + height, width: width, height: height });
    const x = i => left + i / series.avg.length * (width - left - 10);
    const y = v => (height - bottom) - v / peak * (height - bottom - 8);
    for (let k = 0; k <= peak; k++) {
      g.appendChild(svg("line", { x1: left, x2: width - 10, y1: y(k), y2: y(k), stroke: "#eef1f5" }));
      g.appendChild(svg("text", { x: left - 6, y: y(k) + 4, "text-anchor": "end" }, String(k)));
    }
    let area = "M" + x(0) + "," + y(0), maxLine = "";
    series.avg.forEach((v, i) => { area += " L" + x(i) + "," + y(v) + " L" + x(i + 1) + "," + y(v); });
    area += " L" + x(series.avg.length) + "," + y(0) + " Z";
    series.max.forEach((v, i) => { maxLine += (i ? " L" : "M") + x(i) + "," + y(v) + " L" + x(i + 1) + "," + y(v); });
    g.appendChild(svg("path", { d: area, fill: "#6b8afd", "fill-opacity": 0.45, stroke: "none" }));
    g.appendChild(svg("path", { d: maxLine, fill: "none", stroke: "#1d2330", "stroke-width": 1, "stroke-opacity": 0.6 }));
    g.appendChild(svg("text", { x: left, y: height - 4 }, "0"));
    g.appendChild(svg("text", { x: width - 10, y: height - 4, "text-anchor": "end" }, fmt(data.run.duration_ns)));
    parent.appendChild(g);
    const p = data.summary.parallelism_ns, total = Object.values(p).reduce((a, b) => a + b, 0) || 1;
    const parts = Object.keys(p).sort((a, b) => a - b).map(k => k + " on CPU: " + (100 * p[k] / total).toFixed(1) + "%");
    parent.appendChild(el("p", { class: "note" }, "Shaded: average number of traced tasks on a CPU; line: the most at any instant. Share of the run: " + parts.join(", ") + "."));
  }

  function residency(parent) {
    const ranked = tasks.filter(t => t.oncpu_ns > 0).sort((a, b) => b.oncpu_ns - a.oncpu_ns).slice(0, 40);
    if (!ranked.length) { parent.appendChild(el("p", { class: "note" }, "No task was seen on a CPU.")); return; }
    const cpus = Math.max(1, data.run.cpus);
    const rowH = 18, left = 230, width = 1000, height = ranked.length * rowH + 10;
    const most = ranked[0].oncpu_ns;
    const g = svg("svg", { id: "residency", viewBox: "0 0 " + width + " " + height, width: width, height: height });
    ranked.forEach((t, row) => {
      const yy = row * rowH + 4;
      g.appendChild(svg("text", { x: 4, y: yy + 11 }, (t.comm || "?").slice(0, 16) + " " + t.pid + " (" + t.kind + ")"));
      let at = left;
      for (let c = 0; c < cpus; c++) {
        const ns = t.cpus[String(c)] || 0;
        if (!ns) continue;
        const w = ns / most * (width - left - 140);
        const r = svg("rect", { x: at, y: yy, width: Math.max(1, w), height: rowH - 5, fill: "hsl(" + (c * 97 % 360) + ",50%,55%)" });
        r.addEventListener("mousemove", e => showTip(e, taskLabel(t) + "\nCPU " + c + ": " + fmt(ns)));
        r.addEventListener("mouseleave", hideTip);
        g.appendChild(r);
        at += w;
      }
      g.appendChild(svg("text", { x: at + 6, y: yy + 11 }, fmt(t.oncpu_ns) + (t.migrations ? ", " + t.migrations + " migrations" : "")));
    });
    parent.appendChild(g);
    const legend = el("div", { class: "legend" });
    for (let c = 0; c < cpus; c++) {
      const sw = el("span", { class: "swatch" });
      sw.style.background = "hsl(" + (c * 97 % 360) + ",50%,55%)";
      legend.appendChild(el("span", {}, sw, "CPU " + c));
    }
    parent.appendChild(legend);
  }

  latencySection();
  treeSection();
  tableSection();
  placementSection();
  document.body.setAttribute("data-rendered", "yes");
})();
