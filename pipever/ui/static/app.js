/* pv ui: fills <main> of each view from its /api/ JSON. Everything from the repository is
   shown as text (textContent), never parsed as HTML: a commit may come from anyone. */
"use strict";

const main = document.getElementById("main");
/* replaceChildren without the nulls of optional parts */
function fill(node, ...children) { node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false && c !== "")); }
const VIEW = document.body.dataset.view;
const tokenMeta = document.querySelector('meta[name="pv-action-token"]');
const ACTION_TOKEN = tokenMeta ? tokenMeta.content : null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function api(path, options) {
  const res = await fetch(path, Object.assign({credentials: "same-origin"}, options || {}));
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || `${res.status} ${res.statusText}`);
    err.hint = body && body.hint;
    err.status = res.status;
    throw err;
  }
  return body;
}

async function action(name, payload) {
  return api(`/api/actions/${name}`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-PV-Action-Token": ACTION_TOKEN || ""},
    body: JSON.stringify(payload),
  });
}

function errorBox(err) {
  return el("div", {class: "error", role: "alert"}, el("strong", {text: "Error: "}), err.message,
            err.hint ? el("div", {class: "hint", text: err.hint}) : null);
}

function notice(text, kind) {
  return el("div", {class: `notice ${kind || ""}`, role: "status", text});
}

function humanSize(n) {
  if (n === null || n === undefined) return "";
  let size = n;
  for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
    if (size < 1024 || unit === "TiB") return unit === "B" ? `${size} B` : `${size.toFixed(1)} ${unit}`;
    size /= 1024;
  }
  return `${n} B`;
}

function short(sha) { return sha ? sha.slice(0, 7) : ""; }

function table(headers, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, headers.map(h => el("th", {text: h})))),
    el("tbody", {}, rows.map(r => el("tr", {}, r.map(c => c instanceof Node ? el("td", {}, c) : el("td", {text: c ?? ""}))))));
}

function section(title, ...children) {
  return el("section", {class: "card"}, el("h2", {text: title}), ...children);
}

/* ---------------------------------------------------------------- overview */
async function overview() {
  const o = await api("/api/overview");
  const card = (href, label, value, sub) => el("a", {class: "tile", href},
    el("div", {class: "tile-value", text: value}), el("div", {class: "tile-label", text: label}),
    sub ? el("div", {class: "tile-sub", text: sub}) : null);
  fill(main,
    el("h1", {}, o.name, el("span", {class: "sub", text: o.branch ? ` on ${o.branch} (${short(o.head)})` : ""})),
    el("p", {class: "muted", text: o.root}),
    el("div", {class: "tiles", id: "overview"},
      card("/experiments", "experiments", o.experiments),
      card("/plots", "plots", o.plots),
      card("/pipeline", "stages", o.stages, o.stale ? `${o.stale} to run` : "all up to date"),
      card("/data", "tracked outputs", o.tracked, humanSize(o.size)),
      card("/registry", "artifacts", o.artifacts)),
    el("div", {class: "columns"},
      section("Pipeline", o.stage_status.length
        ? el("div", {class: "legend wrap"}, o.stage_status.map(s =>
            el("a", {href: "/pipeline", class: `badge status-${STATUS_CLASS[s.status]}`, text: `${s.name}: ${s.status}`})))
        : el("p", {class: "muted", text: "No stages yet."})),
      section("Latest experiments", o.recent.length
        ? el("ul", {class: "plain"}, o.recent.map(n => el("li", {}, el("a", {href: `/plots?rev=${encodeURIComponent(n)}`, text: n}))))
        : el("p", {class: "muted", text: "No experiments yet: pv exp run -S KEY=VALUE."})),
      section("Registry", o.registry.length
        ? el("ul", {class: "plain"}, o.registry.map(a => el("li", {}, el("strong", {text: a.name}), ` latest ${a.latest || "none"}`,
            Object.entries(a.stages).map(([s, v]) => el("span", {class: "badge status-ok", text: `${s}: ${v}`})))))
        : el("p", {class: "muted", text: "No registered versions."}))));
}

/* ------------------------------------------------------------- experiments */
function asNumber(text) {
  if (text === "-" || text === "" || text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function compareCells(a, b) {
  const x = asNumber(a), y = asNumber(b);
  if (x !== null && y !== null) return x - y;
  if (x !== null) return -1;
  if (y !== null) return 1;
  return String(a).localeCompare(String(b));
}

async function experiments() {
  const data = await api("/api/experiments");
  const state = {filter: "", hideUnchanged: false, sort: null, desc: false, selected: new Set()};
  const cols = data.columns;
  const rows = data.rows.map((r, i) => Object.assign({index: i}, r));
  const filterBox = el("input", {type: "search", id: "exp-filter", placeholder: "Filter rows (name or any value)",
                                 oninput: e => { state.filter = e.target.value.toLowerCase(); draw(); }});
  const hide = el("input", {type: "checkbox", id: "hide-unchanged",
                            onchange: e => { state.hideUnchanged = e.target.checked; draw(); }});
  const plotLink = el("a", {class: "button", id: "plot-selected", href: "/plots"}, "Plot selected");
  const holder = el("div", {class: "scroll"});
  const compare = el("div", {id: "compare"});
  const errors = rows.filter(r => r.errors.length).map(r => notice(`${r.name}: ${r.errors.join("; ")}`, "warn"));

  function changed(i) {
    const values = new Set(rows.filter(r => r.type !== "queued").map(r => r.cells[i]));
    return values.size > 1;
  }
  function visibleColumns(subset) {
    return cols.map((c, i) => i).filter(i => {
      if (cols[i].kind === "info") return true;
      if (subset) return new Set(subset.map(r => r.cells[i])).size > 1;
      return !state.hideUnchanged || changed(i);
    });
  }
  function revOf(row) { return row.type === "workspace" ? "workspace" : row.name; }

  function draw() {
    const shown = visibleColumns(null);
    let list = rows.filter(r => !state.filter || r.name.toLowerCase().includes(state.filter) ||
                                r.cells.some(c => String(c).toLowerCase().includes(state.filter)));
    if (state.sort !== null) {
      const missing = c => c === "-" || c === "";  // rows without the value stay last either way
      list = list.slice().sort((a, b) => {
        const x = a.cells[state.sort], y = b.cells[state.sort];
        if (missing(x) || missing(y)) return missing(x) - missing(y);
        return compareCells(x, y) * (state.desc ? -1 : 1);
      });
    }
    const head = el("tr", {}, el("th", {class: "sel"}),
      shown.map(i => el("th", {class: `col-${cols[i].kind}${state.sort === i ? " sorted" : ""}`, title: "Sort",
                               onclick: () => { state.desc = state.sort === i ? !state.desc : false; state.sort = i; draw(); }},
                        cols[i].title, state.sort === i ? (state.desc ? " ▼" : " ▲") : "")));
    const body = list.map(r => el("tr", {class: `row-${r.type}${state.selected.has(r.index) ? " selected" : ""}`,
                                         "data-name": r.name},
      el("td", {class: "sel"}, el("input", {type: "checkbox", "aria-label": `select ${r.name}`,
        disabled: r.type === "queued", checked: state.selected.has(r.index),
        onchange: e => { if (e.target.checked) state.selected.add(r.index); else state.selected.delete(r.index); draw(); }})),
      shown.map(i => el("td", {class: `col-${cols[i].kind}`, text: r.cells[i]}))));
    holder.replaceChildren(el("table", {id: "experiments", class: "grid"}, el("thead", {}, head), el("tbody", {}, body)));
    const picked = rows.filter(r => state.selected.has(r.index));
    plotLink.href = "/plots" + (picked.length ? "?" + picked.map(r => "rev=" + encodeURIComponent(revOf(r))).join("&") : "");
    plotLink.classList.toggle("disabled", !picked.length);
    if (picked.length >= 2) {
      const diffCols = visibleColumns(picked).filter(i => cols[i].kind !== "info" || i === 0);
      fill(compare, section(`Comparing ${picked.length} rows: the values that differ`,
        diffCols.length > 1 ? table(diffCols.map(i => cols[i].title), picked.map(r => diffCols.map(i => r.cells[i])),
                                    {class: "grid", id: "compare-table"})
                            : el("p", {class: "muted", text: "Their params and metrics are the same."})));
    } else {
      fill(compare, picked.length === 1 ? el("p", {class: "muted", text: "Select another row to compare."}) : "");
    }
  }

  const controls = el("div", {class: "controls"}, filterBox,
    el("label", {}, hide, " Hide unchanged columns"), plotLink,
    el("span", {class: "muted", text: `${rows.length} rows`}));
  fill(main, el("h1", {text: "Experiments"}), controls, ...errors, holder, compare,
                       ACTION_TOKEN ? queueForm() : null);
  draw();
}

function queueForm() {
  const params = el("input", {type: "text", id: "queue-params", placeholder: "train.lr=0.2 params.yaml:train.epochs=5", size: 40});
  const name = el("input", {type: "text", id: "queue-name", placeholder: "name (optional)", size: 16});
  const out = el("div", {id: "queue-result"});
  const submit = async e => {
    e.preventDefault();
    out.replaceChildren();
    try {
      const res = await action("queue", {params: params.value.split(/\s+/).filter(Boolean), name: name.value || null});
      out.replaceChildren(notice(res.message, "ok"));
      experiments();
    } catch (err) { out.replaceChildren(errorBox(err)); }
  };
  return section("Queue an experiment", el("form", {class: "controls", onsubmit: submit},
    el("label", {}, "Params ", params), name, el("button", {type: "submit"}, "Queue")), out);
}

/* ------------------------------------------------------------------- plots */
async function plots() {
  const wanted = new URLSearchParams(location.search).getAll("rev");
  const [data, exps] = await Promise.all([
    api("/api/plots" + (wanted.length ? "?" + wanted.map(r => "rev=" + encodeURIComponent(r)).join("&") : "")),
    api("/api/experiments").catch(() => ({rows: []})),
  ]);
  const chosen = new Set(data.revisions);
  const choices = exps.rows.filter(r => r.type !== "queued").map(r => r.type === "workspace" ? "workspace" : r.name);
  for (const r of data.revisions) if (!choices.includes(r)) choices.push(r);
  const picker = el("form", {class: "controls", id: "rev-picker", onsubmit: e => {
      e.preventDefault();
      const revs = [...picker.querySelectorAll("input[type=checkbox]:checked")].map(c => c.value);
      const extra = picker.querySelector("#rev-other").value.trim();
      if (extra) revs.push(extra);
      location.search = revs.map(r => "rev=" + encodeURIComponent(r)).join("&");
    }},
    choices.map(r => el("label", {class: "chip"}, el("input", {type: "checkbox", value: r, checked: chosen.has(r)}), " ", r)),
    el("input", {type: "text", id: "rev-other", placeholder: "other revision", size: 14}),
    el("button", {type: "submit"}, "Show"));
  const grid = el("div", {class: "plots", id: "plots"});
  fill(main, el("h1", {text: "Plots"}),
    el("p", {class: "muted", text: `Revisions: ${data.revisions.join(", ")}`}), picker,
    ...data.errors.map(e => notice(e, "warn")), grid);
  if (!data.plots.length && !data.images.length) grid.append(el("p", {class: "muted", text: "No plots to show."}));
  for (const img of data.images) {
    grid.append(el("figure", {class: "card plot image-plot", "data-plot-id": img.path},
      el("figcaption", {}, el("strong", {text: img.path}), el("span", {class: "muted", text: " image"})),
      el("div", {class: "images"}, img.revisions.map(r => el("figure", {},
        el("img", {src: r.url, alt: `${img.path} at ${r.rev}`, loading: "lazy"}), el("figcaption", {class: "muted", text: r.rev}))))));
  }
  for (const plot of data.plots) {
    const target = el("div", {class: "vega", "data-plot-id": plot.id});
    grid.append(el("figure", {class: "card plot"}, el("figcaption", {}, el("strong", {text: plot.id}),
      el("span", {class: "muted", text: ` ${plot.template} · ${plot.revisions.join(", ")}`})), target));
    if (typeof vegaEmbed !== "function") { target.append(errorBox(new Error("the vega scripts did not load"))); continue; }
    vegaEmbed(target, plot.spec, {actions: false, renderer: "svg"})
      .then(() => target.setAttribute("data-drawn", "true"))
      .catch(err => target.append(errorBox(err)));
  }
}

/* ---------------------------------------------------------------- pipeline */
const STATUS_CLASS = {"up to date": "ok", "stale": "stale", "running": "running", "failed": "failed",
                      "frozen": "frozen", "queued": "queued"};

function drawDag(data) {
  const lay = data.layout;
  const root = svg("svg", {width: Math.max(lay.width, 200), height: Math.max(lay.height, 60), id: "dag",
                           role: "img", "aria-label": "stage graph"});
  root.append(svg("defs", {}, svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"}, svg("path", {d: "M 0 0 L 10 5 L 0 10 z", class: "arrow"}))));
  for (const [a, b] of data.edges) {
    const p = lay.nodes[a], q = lay.nodes[b];
    if (!p || !q) continue;
    const x1 = p.x + p.w, y1 = p.y + p.h / 2, x2 = q.x, y2 = q.y + q.h / 2, mid = (x1 + x2) / 2;
    root.append(svg("path", {class: "edge", d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2 - 2} ${y2}`,
                             "marker-end": "url(#arrow)"}));
  }
  for (const stage of data.stages) {
    const n = lay.nodes[stage.name];
    const label = stage.experiment && (stage.status === "running" || stage.status === "queued")
      ? `${stage.status} (${stage.experiment})` : stage.status;
    const g = svg("g", {class: `node status-${STATUS_CLASS[stage.status] || "ok"}`, "data-stage": stage.name,
                        "data-status": stage.status, transform: `translate(${n.x},${n.y})`},
      svg("title", {}, [stage.name, stage.status, ...(stage.cmd || [])].join("\n")),
      svg("rect", {width: n.w, height: n.h, rx: 8}),
      svg("text", {x: 12, y: 19, class: "node-name"}, stage.name.length > 22 ? stage.name.slice(0, 21) + "…" : stage.name),
      svg("text", {x: 12, y: 35, class: "node-status"}, label));
    root.append(g);
  }
  return root;
}

function reasonText(reasons) {
  return (reasons || []).map(r => typeof r === "string" ? r :
    Object.entries(r).map(([k, v]) => `${k}: ${typeof v === "object" ? Object.keys(v).join(", ") : v}`).join("; ")).join("; ");
}

async function pipeline() {
  let last = null;
  async function load() {
    const data = await api("/api/pipeline");
    const live = data.live;
    const running = live.runs.filter(r => r.result === "running");
    const banner = live.active && running.length
      ? notice(`Running: ${live.command || "pv"}${running.some(r => r.experiment) ? " — experiment " + running.map(r => r.experiment).filter(Boolean).join(", ") : ""}`, "running")
      : null;
    const legend = el("div", {class: "legend"}, Object.entries(STATUS_CLASS).map(([s, c]) =>
      el("span", {class: `badge status-${c}`, text: s})));
    const rows = data.stages.map(s => [s.name, el("span", {class: `badge status-${STATUS_CLASS[s.status]}`, text: s.status}),
      s.detail || reasonText(s.reasons) || s.desc || "", (s.cmd || []).join(" && ")]);
    fill(main, el("h1", {text: "Pipeline"}), banner, legend,
      data.stages.length ? el("div", {class: "card scroll"}, drawDag(data))
                         : el("p", {class: "muted", text: "No stages: add some with 'pv stage add'."}),
      data.stages.length ? section("Stages", table(["stage", "status", "why", "command"], rows, {class: "grid", id: "stages"})) : null);
    main.dataset.liveUpdated = String(live.updated || "");
    main.dataset.liveActive = String(!!live.active);
  }
  await load();
  const tick = async () => {
    try {
      const live = await api("/api/live");
      const key = `${live.updated}|${live.active}`;
      if (last !== null && key !== last) await load();
      last = key;
    } catch (err) { /* the next tick tries again */ }
    setTimeout(tick, document.hidden ? 5000 : 1000);
  };
  tick();
}

/* -------------------------------------------------------------------- data */
async function dataView() {
  const [data, revs] = await Promise.all([api("/api/data"), api("/api/revisions")]);
  const remoteCells = new Map();
  const rows = data.files.map(f => {
    const cell = el("span", {class: "muted", text: "checking…"});
    remoteCells.set(f.path, cell);
    return [f.path, f.dir ? "directory" : "file", humanSize(f.size),
            el("span", {class: `badge ${f.status === "up to date" ? "status-ok" : "status-stale"}`, text: f.status}), cell];
  });
  const remoteNote = el("div", {id: "remote-note"});
  const options = (withWs) => [...(withWs ? ["workspace"] : []), "HEAD", ...revs.refs,
    ...revs.commits.map(c => c.sha)].map(v => {
      const commit = revs.commits.find(c => c.sha === v);
      return el("option", {value: v, text: commit ? `${short(v)} ${commit.subject}` : v});
    });
  const a = el("select", {id: "diff-a"}, options(false));
  const b = el("select", {id: "diff-b"}, options(true));
  const diffOut = el("div", {id: "diff"});
  const runDiff = async e => {
    if (e) e.preventDefault();
    diffOut.replaceChildren(el("p", {class: "muted", text: "Comparing…"}));
    try {
      const res = await api(`/api/data/diff?a=${encodeURIComponent(a.value)}&b=${encodeURIComponent(b.value)}`);
      const list = [];
      for (const [kind, changes] of Object.entries(res.changes)) {
        for (const c of changes) {
          const path = typeof c.path === "object" ? `${c.path.old} → ${c.path.new}` : c.path;
          const size = typeof c.size === "object" && c.size !== null ? `${humanSize(c.size.old)} → ${humanSize(c.size.new)}` : humanSize(c.size);
          list.push([el("span", {class: `badge kind-${kind}`, text: kind}), path, size]);
        }
      }
      diffOut.replaceChildren(list.length ? table(["change", "path", "size"], list, {class: "grid", id: "diff-table"})
                                          : el("p", {class: "muted", text: `No data changes between ${res.a} and ${res.b}.`}));
    } catch (err) { diffOut.replaceChildren(errorBox(err)); }
  };
  fill(main, el("h1", {text: "Data"}),
    section(`Tracked outputs (${data.files.length}, ${humanSize(data.total)})`,
      data.files.length ? table(["path", "type", "size", "workspace", "on remote"], rows, {class: "grid", id: "tracked"})
                        : el("p", {class: "muted", text: "Nothing is tracked yet: pv add FILE."}), remoteNote),
    section("Diff between revisions", el("form", {class: "controls", onsubmit: runDiff},
      el("label", {}, "from ", a), el("label", {}, "to ", b), el("button", {type: "submit"}, "Compare")), diffOut));
  if (revs.refs.length || revs.commits.length) runDiff();
  try {
    const remote = await api("/api/data/remote");
    for (const [path, cell] of remoteCells) {
      const r = remote.paths[path];
      cell.className = `badge ${r && r.state === "yes" ? "status-ok" : "status-stale"}`;
      cell.textContent = !r ? "?" : r.state === "no" ? `no (${r.missing} missing)` : r.state;
    }
    remoteNote.replaceChildren(el("p", {class: "muted", text: `Remote: ${remote.remotes.join(", ") || "none needed"}`}),
                               ...remote.warnings.map(w => notice(w, "warn")));
  } catch (err) {
    for (const cell of remoteCells.values()) cell.textContent = "—";
    remoteNote.replaceChildren(errorBox(err));
  }
}

/* ---------------------------------------------------------------- registry */
async function registryView() {
  const data = await api("/api/registry");
  const out = document.createElement("div");
  const result = el("div", {id: "action-result"});
  const act = async (name, payload) => {
    try {
      const res = await action(name, payload);
      await registryView();
      document.getElementById("action-result").replaceChildren(notice(res.message, "ok"));
    } catch (err) { result.replaceChildren(errorBox(err)); }
  };
  for (const art of data.artifacts) {
    const stages = Object.entries(art.stages || {});
    const versionRows = art.versions.map(v => [v.version, (v.stages || []).join(", "), short(v.commit), v.created_at,
      v.author, v.active ? "" : "deprecated",
      ACTION_TOKEN && v.registered && v.active ? el("form", {class: "inline", onsubmit: e => {
          e.preventDefault();
          act("promote", {name: art.name, version: v.version, stage: e.target.querySelector("input").value});
        }}, el("input", {type: "text", placeholder: "stage", size: 8, required: true}), el("button", {type: "submit"}, "Promote")) : ""]);
    const historyRows = art.history.map(e => [e.time, e.event, e.version || "", e.stage || "", e.tag, e.author,
      short(e.commit), (e.message || "").split("\n")[0]]);
    out.append(el("section", {class: "card artifact", "data-artifact": art.name},
      el("h2", {}, art.name, art.deprecated ? el("span", {class: "badge status-failed", text: "deprecated"}) : null),
      el("p", {class: "muted", text: [art.type, art.path, art.desc].filter(Boolean).join(" · ")}),
      el("div", {class: "controls"}, el("span", {text: `latest: ${art.latest || "none"}`}),
        stages.map(([s, v]) => el("span", {class: "badge status-ok"}, `${s}: ${v}`,
          ACTION_TOKEN ? el("button", {class: "small", type: "button", title: `roll back ${s}`,
                                       onclick: () => act("rollback", {name: art.name, stage: s})}, "rollback") : null))),
      versionRows.length ? table(["version", "stages", "commit", "created", "author", "status", ""], versionRows, {class: "grid versions"})
                         : el("p", {class: "muted", text: "No version registered yet: pv model register " + art.name}),
      historyRows.length ? el("details", {open: true}, el("summary", {text: `History (${historyRows.length} events)`}),
        el("div", {class: "scroll"}, table(["time", "event", "version", "stage", "tag", "author", "commit", "message"], historyRows, {class: "grid history"}))) : null));
  }
  fill(main, el("h1", {text: "Model registry"}), result,
    data.artifacts.length ? out : el("p", {class: "muted", text: "No artifacts: declare them under 'artifacts:' in pv.yaml."}));
}

const VIEWS = {overview, experiments, plots, pipeline, data: dataView, registry: registryView};

(VIEWS[VIEW] || overview)().then(() => { main.dataset.ready = "true"; })
  .catch(err => { fill(main, errorBox(err)); main.dataset.ready = "error"; });
