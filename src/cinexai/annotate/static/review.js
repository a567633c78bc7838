"use strict";
// Reviewer page: calibrated 12-lead grid, 10 s strip, CineECG 3D + time axis, marks, autosave.

const PX_PER_MM = 96 / 25.4; // CSS reference pixel
const MM_PER_S = 25;
const MM_PER_MV = 10;
const LIMB = ["I", "II", "III", "aVR", "aVL", "aVF"];
const CHEST = ["V1", "V2", "V3", "V4", "V5", "V6"];
const S = {
  me: null, proto: null, heart: null, work: [], current: null, item: null, kase: null,
  data: null, seq: 0, submitted: false, timer: null, chain: Promise.resolve(), zoom: 4,
};

function $(id) { return document.getElementById(id); }

async function api(method, url, body) {
  const options = { method: method, credentials: "same-origin", headers: {} };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRF-Token"] = S.me.csrf;
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let payload = null;
  try { payload = await response.json(); } catch (e) { payload = null; }
  return { status: response.status, ok: response.ok, body: payload };
}

function status(text, error) {
  const el = $("save-status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

// ------------------------------------------------------------------ protocol

function minWidth(start, end) {
  return (start + end) / 2 < S.proto.qrs_region_ms ? S.proto.min_width_qrs_ms : S.proto.min_width_rest_ms;
}

function widen(start, end) {
  // Widen a segment about its centre to the protocol's minimal window, kept inside the window.
  const W = S.proto.window_ms;
  for (let pass = 0; pass < 2; pass++) {
    const need = minWidth(start, end);
    if (end - start < need) {
      const c = (start + end) / 2;
      start = c - need / 2; end = c + need / 2;
      if (start < 0) { end -= start; start = 0; }
      if (end > W) { start -= end - W; end = W; }
    }
    start = Math.max(0, Math.floor(start * 10 + 1e-6) / 10);
    end = Math.min(W, Math.ceil(end * 10 - 1e-6) / 10);
  }
  return [start, end];
}

// ------------------------------------------------------------------ drawing

function pxPerMs() { return MM_PER_S * S.zoom * PX_PER_MM / 1000; }
function pxPerMv(zoom) { return MM_PER_MV * zoom * PX_PER_MM; }

function setupCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = width + "px";
  canvas.style.height = height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

function drawGrid(ctx, width, height, pxPerMm, y0) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  for (const [step, colour, lw] of [[1, "#f6d3d3", 0.5], [5, "#e59a9a", 1]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = lw; ctx.beginPath();
    for (let x = 0; x <= width + 0.1; x += step * pxPerMm) { ctx.moveTo(x, 0); ctx.lineTo(x, height); }
    for (let y = y0 % (step * pxPerMm); y <= height + 0.1; y += step * pxPerMm) { ctx.moveTo(0, y); ctx.lineTo(width, y); }
    ctx.stroke();
  }
}

function drawTrace(ctx, values, fs, xScale, y0, yScale, colour) {
  ctx.strokeStyle = colour; ctx.lineWidth = 1.2; ctx.beginPath();
  for (let i = 0; i < values.length; i++) {
    const x = (i * 1000 / fs) * xScale, y = y0 - values[i] * yScale;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.stroke();
}

function drawMarks(ctx, marks, height) {
  const k = pxPerMs(), tol = S.proto.point_tolerance_ms;
  for (const m of marks) {
    if (m.kind === "segment") {
      ctx.fillStyle = "rgba(21,101,192,0.22)";
      ctx.fillRect(m.start_ms * k, 0, (m.end_ms - m.start_ms) * k, height);
      ctx.strokeStyle = "#1565c0"; ctx.lineWidth = 1;
      ctx.strokeRect(m.start_ms * k, 0.5, (m.end_ms - m.start_ms) * k, height - 1);
    } else {
      ctx.fillStyle = "rgba(239,108,0,0.18)";
      ctx.fillRect((m.start_ms - tol) * k, 0, 2 * tol * k, height);
      ctx.strokeStyle = "#ef6c00"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(m.start_ms * k, 0); ctx.lineTo(m.start_ms * k, height); ctx.stroke();
    }
  }
}

function drawRegions(ctx, height) {
  // The protocol's two regions with their minimal windows, visible on every panel.
  const k = pxPerMs(), q = S.proto.qrs_region_ms, W = S.proto.window_ms;
  ctx.fillStyle = "rgba(120,144,156,0.12)";
  ctx.fillRect(0, 0, q * k, 11);
  ctx.fillStyle = "rgba(120,144,156,0.24)";
  ctx.fillRect(q * k, 0, (W - q) * k, 11);
  ctx.setLineDash([3, 3]); ctx.strokeStyle = "#607d8b"; ctx.beginPath();
  ctx.moveTo(q * k, 0); ctx.lineTo(q * k, height); ctx.stroke(); ctx.setLineDash([]);
  ctx.fillStyle = "#37474f"; ctx.font = "9px sans-serif";
  ctx.fillText("\u2265" + S.proto.min_width_qrs_ms + " ms", 2, 9);
  ctx.fillText("\u2265" + S.proto.min_width_rest_ms + " ms", q * k + 2, 9);
}

function rowRange(leads) {
  let lo = -0.5, hi = 0.5;
  for (const lead of leads) {
    const v = S.kase.window[S.kase.leads.indexOf(lead)];
    for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  }
  return [Math.floor(lo * 2) / 2 - 0.25, Math.ceil(hi * 2) / 2 + 0.25];
}

function renderLeads() {
  const host = $("leads");
  host.innerHTML = "";
  const k = pxPerMs(), width = S.proto.window_ms * k, yk = pxPerMv(S.zoom);
  for (const row of [LIMB, CHEST]) {
    const [lo, hi] = rowRange(row);
    const height = (hi - lo) * yk, y0 = hi * yk;
    const div = document.createElement("div");
    div.className = "leadrow";
    for (const lead of row) {
      const canvas = document.createElement("canvas");
      canvas.className = "lead";
      canvas.id = "lead-" + lead;
      canvas.dataset.lead = lead;
      canvas.dataset.pxPerMs = String(k);
      canvas.title = lead;
      const ctx = setupCanvas(canvas, width, height);
      const draw = function (preview) {
        drawGrid(ctx, width, height, S.zoom * PX_PER_MM, y0);
        drawRegions(ctx, height);
        drawMarks(ctx, S.data.marks.ecg12.filter((m) => m.lead === lead), height);
        if (preview) drawMarks(ctx, [preview], height);
        drawTrace(ctx, S.kase.window[S.kase.leads.indexOf(lead)], S.kase.fs, k, y0, yk, "#111");
        ctx.fillStyle = "#000"; ctx.font = "bold 12px sans-serif"; ctx.fillText(lead, 4, 24);
      };
      draw(null);
      attachMarking(canvas, "ecg12", lead, draw);
      div.appendChild(canvas);
    }
    host.appendChild(div);
  }
}

function renderCineTime() {
  const canvas = $("cine-time");
  const k = pxPerMs(), width = S.proto.window_ms * k, height = 150;
  canvas.dataset.pxPerMs = String(k);
  const ctx = setupCanvas(canvas, width, height);
  const traj = S.kase.trajectory;
  let peak = 1;
  for (const c of traj) for (const v of c) peak = Math.max(peak, Math.abs(v));
  const yScale = (height / 2 - 14) / peak;
  const draw = function (preview) {
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    ctx.strokeStyle = "#eceff1"; ctx.beginPath();
    for (let t = 0; t <= S.proto.window_ms; t += 40) { ctx.moveTo(t * k, 0); ctx.lineTo(t * k, height); }
    ctx.stroke();
    drawRegions(ctx, height);
    drawMarks(ctx, S.data.marks.cineecg, height);
    if (preview) drawMarks(ctx, [preview], height);
    ["#c62828", "#2e7d32", "#1565c0"].forEach((colour, c) =>
      drawTrace(ctx, traj[c], S.kase.fs, k, height / 2 + 6, yScale, colour));
    ctx.font = "10px sans-serif";
    ["x", "y", "z"].forEach((name, c) => {
      ctx.fillStyle = ["#c62828", "#2e7d32", "#1565c0"][c];
      ctx.fillText(name, width - 30 + 9 * c, height - 4);
    });
  };
  draw(null);
  attachMarking(canvas, "cineecg", "*", draw);
}

function attachMarking(canvas, modality, lead, draw) {
  // Drag -> segment (widened to the minimal window), click -> point; nothing once submitted.
  let x0 = null;
  const toMs = (ev) => {
    const rect = canvas.getBoundingClientRect();
    const t = (ev.clientX - rect.left) / pxPerMs();
    return Math.min(S.proto.window_ms, Math.max(0, t));
  };
  canvas.addEventListener("mousedown", (ev) => {
    if (S.submitted) return;
    x0 = toMs(ev);
    ev.preventDefault();
  });
  canvas.addEventListener("mousemove", (ev) => {
    if (x0 === null) return;
    const x1 = toMs(ev);
    draw({ kind: "segment", lead: lead, start_ms: Math.min(x0, x1), end_ms: Math.max(x0, x1) });
  });
  const finish = (ev) => {
    if (x0 === null) return;
    const x1 = toMs(ev), a = Math.min(x0, x1), b = Math.max(x0, x1);
    x0 = null;
    let mark;
    if ((b - a) * pxPerMs() < 4) {
      const t = Math.round((a + b) / 2 * 10) / 10;
      mark = { kind: "point", lead: lead, start_ms: t, end_ms: t };
    } else {
      const [s, e] = widen(a, b);
      mark = { kind: "segment", lead: lead, start_ms: s, end_ms: e };
    }
    S.data.marks[modality].push(mark);
    draw(null);
    marksChanged();
  };
  canvas.addEventListener("mouseup", finish);
  canvas.addEventListener("mouseleave", (ev) => { if (x0 !== null) finish(ev); });
}

function renderRhythm() {
  const select = $("rhythm-lead"), canvas = $("rhythm");
  if (!S.kase.record) {
    canvas.style.display = "none";
    select.style.display = "none";
    return;
  }
  canvas.style.display = "";
  select.style.display = "";
  if (!select.options.length) {
    for (const lead of S.kase.leads) select.add(new Option(lead, lead, lead === "II", lead === "II"));
    select.addEventListener("change", renderRhythm);
  }
  const values = S.kase.record.signal[S.kase.leads.indexOf(select.value)];
  const fs = S.kase.record.fs;
  const k = MM_PER_S * PX_PER_MM / 1000, yk = pxPerMv(1);
  const width = values.length * 1000 / fs * k, height = 4 * yk;
  const ctx = setupCanvas(canvas, width, height);
  drawGrid(ctx, width, height, PX_PER_MM, height / 2);
  drawTrace(ctx, values, fs, k, height / 2, yk, "#111");
}

function render3d() {
  const traj = S.kase.trajectory, fs = S.kase.fs;
  const n = traj[0].length, t = Array.from({ length: n }, (_, i) => i * 1000 / fs);
  const traces = [];
  for (const [part, colour] of [["lv", "#c9877f"], ["rv", "#7f9cc9"]]) {
    const mesh = S.heart.meshes[part];
    traces.push({
      type: "mesh3d", name: part.toUpperCase(), color: colour, opacity: 0.15, hoverinfo: "name",
      x: mesh.vertices.map((v) => v[0]), y: mesh.vertices.map((v) => v[1]), z: mesh.vertices.map((v) => v[2]),
      i: mesh.faces.map((f) => f[0]), j: mesh.faces.map((f) => f[1]), k: mesh.faces.map((f) => f[2]),
    });
  }
  const marked = new Array(n).fill(false);
  const tol = S.proto.point_tolerance_ms;
  for (const m of S.data.marks.cineecg) {
    const a = m.kind === "point" ? m.start_ms - tol : m.start_ms;
    const b = m.kind === "point" ? m.start_ms + tol : m.end_ms;
    for (let i = 0; i < n; i++) if (t[i] >= a && t[i] <= b) marked[i] = true;
  }
  traces.push({
    type: "scatter3d", mode: "markers", name: "your marks", hoverinfo: "skip",
    x: traj[0].map((v, i) => (marked[i] ? v : null)), y: traj[1].map((v, i) => (marked[i] ? v : null)),
    z: traj[2].map((v, i) => (marked[i] ? v : null)), marker: { color: "rgba(60,60,60,0.45)", size: 9 },
  });
  traces.push({
    type: "scatter3d", mode: "lines", name: "trajectory", x: traj[0], y: traj[1], z: traj[2],
    text: t.map((v) => v.toFixed(0) + " ms"), hoverinfo: "text",
    line: { color: t, colorscale: "Viridis", width: 6 },
  });
  const ticks = [];
  for (let i = 0; i < n; i += Math.round(50 * fs / 1000)) ticks.push(i);
  traces.push({
    type: "scatter3d", mode: "markers+text", name: "every 50 ms", hoverinfo: "skip",
    x: ticks.map((i) => traj[0][i]), y: ticks.map((i) => traj[1][i]), z: ticks.map((i) => traj[2][i]),
    text: ticks.map((i) => t[i].toFixed(0)), marker: { size: 3, color: "black" }, textfont: { size: 10 },
  });
  const layout = {
    margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: "keep",
    scene: {
      aspectmode: "data", xaxis: { title: "x: RV\u2192LV (mm)" }, yaxis: { title: "y (mm)" },
      zaxis: { title: "z (mm)" },
      camera: { up: { x: 0, y: -1, z: 0 }, eye: { x: 0.5, y: -0.4, z: -1.9 } },
    },
  };
  window.Plotly.react("plot3d", traces, layout, { displaylogo: false, responsive: true });
}

function renderMarks() {
  const list = $("marks");
  list.innerHTML = "";
  for (const modality of ["ecg12", "cineecg"]) {
    S.data.marks[modality].forEach((m, index) => {
      const li = document.createElement("li");
      const where = modality === "ecg12" ? "12-lead " + m.lead : "CineECG trajectory";
      li.textContent = m.kind === "point"
        ? where + ": point at " + m.start_ms.toFixed(1) + " ms (\u00b1" + S.proto.point_tolerance_ms + " ms)"
        : where + ": " + m.start_ms.toFixed(1) + "\u2013" + m.end_ms.toFixed(1) + " ms";
      if (!S.submitted) {
        const del = document.createElement("button");
        del.type = "button";
        del.textContent = "remove";
        del.addEventListener("click", () => {
          S.data.marks[modality].splice(index, 1);
          renderAll();
          scheduleSave();
        });
        li.appendChild(del);
      }
      list.appendChild(li);
    });
  }
}

function marksChanged() {
  renderMarks();
  render3d();
  scheduleSave();
}

function renderForm() {
  for (const dx of ["normal", "abnormal"]) {
    const radio = $("dx-" + dx);
    radio.checked = S.data.diagnosis === dx;
    radio.disabled = S.submitted;
  }
  $("note").value = S.data.note || "";
  $("note").disabled = S.submitted;
  $("submit").disabled = S.submitted;
  document.body.classList.toggle("locked", S.submitted);
  if (S.submitted) status("Submitted: this case is locked.");
}

function renderAll() {
  renderLeads();
  renderCineTime();
  renderMarks();
  render3d();
}

// ------------------------------------------------------------------ saving

function scheduleSave() {
  if (S.submitted) return;
  clearTimeout(S.timer);
  status("unsaved changes\u2026");
  S.timer = setTimeout(() => { S.chain = S.chain.then(saveNow); }, 400);
}

async function saveNow() {
  if (S.submitted) return;
  S.seq += 1;
  const r = await api("PUT", "/api/work/" + S.current, { seq: S.seq, state: S.data });
  if (r.ok) { status("saved (#" + r.body.seq + ")"); return; }
  if (r.status === 409 && r.body && typeof r.body.seq === "number") {
    S.seq = r.body.seq; // another tab saved meanwhile: ours is newer, so save again
    const again = await api("PUT", "/api/work/" + S.current, { seq: ++S.seq, state: S.data });
    if (again.ok) { status("saved (#" + again.body.seq + ")"); return; }
  }
  status("not saved: " + (r.body && r.body.detail ? JSON.stringify(r.body.detail) : r.status), true);
}

async function submitCase() {
  if (!S.data.diagnosis) { status("choose normal or abnormal before submitting", true); return; }
  clearTimeout(S.timer);
  await S.chain;
  const r = await api("POST", "/api/work/" + S.current + "/submit", { seq: S.seq + 1, state: S.data });
  if (!r.ok) {
    status("not submitted: " + (r.body && r.body.detail ? JSON.stringify(r.body.detail) : r.status), true);
    return;
  }
  S.seq = r.body.seq;
  S.submitted = true;
  const entry = S.work.find((w) => w.id === S.current);
  if (entry) entry.submitted = true;
  renderWorklist();
  renderForm();
  renderAll();
}

// ------------------------------------------------------------------ navigation

function renderWorklist() {
  const nav = $("worklist");
  nav.innerHTML = "";
  for (const w of S.work) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Case " + w.position;
    b.dataset.work = w.id;
    b.className = (w.id === S.current ? "current " : "") + (w.submitted ? "done" : "");
    b.addEventListener("click", () => openWork(w.id));
    nav.appendChild(b);
  }
}

async function openWork(id) {
  clearTimeout(S.timer);
  await S.chain;
  const [kase, item] = await Promise.all([api("GET", "/api/work/" + id + "/case"), api("GET", "/api/work/" + id)]);
  if (!kase.ok || !item.ok) { status("could not open the case", true); return; }
  S.current = id;
  S.kase = kase.body;
  S.item = item.body;
  S.seq = item.body.seq;
  S.submitted = item.body.submitted;
  const stored = item.body.state || {};
  S.data = {
    diagnosis: stored.diagnosis || null,
    note: stored.note || "",
    marks: { ecg12: (stored.marks || {}).ecg12 || [], cineecg: (stored.marks || {}).cineecg || [] },
  };
  $("case-title").textContent = "Case " + item.body.position + " of " + S.work.length;
  $("heart-rate").textContent = S.kase.heart_rate === null ? "n/a" : String(S.kase.heart_rate);
  status(S.seq ? "saved (#" + S.seq + ")" : "");
  renderWorklist();
  renderForm();
  renderAll();
  renderRhythm();
  document.body.dataset.ready = id;
}

async function main() {
  const me = await api("GET", "/api/me");
  if (!me.ok) { location.replace("/login"); return; }
  if (me.body.role !== "reviewer") { location.replace("/admin"); return; }
  S.me = me.body;
  S.work = me.body.work;
  $("who").textContent = S.me.name;
  S.proto = (await api("GET", "/api/protocol")).body;
  S.heart = (await api("GET", "/api/heart")).body;
  $("tol").textContent = String(S.proto.point_tolerance_ms);
  $("minwin").textContent = S.proto.min_width_qrs_ms + " ms in 0\u2013" + S.proto.qrs_region_ms + " ms, "
    + S.proto.min_width_rest_ms + " ms in " + S.proto.qrs_region_ms + "\u2013" + S.proto.window_ms + " ms";
  $("zoom").addEventListener("change", () => { S.zoom = Number($("zoom").value); renderAll(); });
  for (const dx of ["normal", "abnormal"]) {
    $("dx-" + dx).addEventListener("change", () => { S.data.diagnosis = dx; scheduleSave(); });
  }
  $("note").addEventListener("input", () => { S.data.note = $("note").value; scheduleSave(); });
  $("submit").addEventListener("click", submitCase);
  if (!S.work.length) { status("no cases assigned"); return; }
  const next = S.work.find((w) => !w.submitted) || S.work[0];
  await openWork(next.id);
}

main();
