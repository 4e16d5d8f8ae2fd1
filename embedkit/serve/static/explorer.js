// embedkit explorer: a small page over the JSON API of `embedkit serve` (no framework, no build step).
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

const state = { sets: [], defaultSet: null, suggestions: [], active: -1, completeSeq: 0, querySeq: 0 };

// -- API ---------------------------------------------------------------------------------------------------
async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, v);
  }
  const response = await fetch(path + (query.toString() ? "?" + query : ""), { headers: { Accept: "application/json" } });
  let body;
  try { body = await response.json(); } catch (e) { body = { error: { message: "The server sent no JSON. Received: HTTP " + response.status } }; }
  if (!response.ok) {
    const err = new Error((body.error && body.error.message) || "HTTP " + response.status);
    err.info = body.error || {};
    throw err;
  }
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function setStatus(node, text, isError) {
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

// -- controls and the URL ----------------------------------------------------------------------------------
function current() {
  const k = Math.max(1, Math.min(100, parseInt($("k").value, 10) || 10));
  return { set: $("set").value, other: $("other").value, search: $("search").value, k };
}

function fillSets(info) {
  state.sets = info.sets;
  state.defaultSet = info.default;
  const primary = $("set");
  primary.replaceChildren(...info.sets.map((s) => el("option", { value: s.name, text: s.name })));
  updateOther();
  $("other-label").hidden = info.sets.length < 2;
}

function updateOther() {
  const chosen = $("other").value;
  const others = state.sets.filter((s) => s.name !== $("set").value);
  $("other").replaceChildren(el("option", { value: "", text: "none" }),
    ...others.map((s) => el("option", { value: s.name, text: s.name })));
  if (others.some((s) => s.name === chosen)) $("other").value = chosen;
  const set = state.sets.find((s) => s.name === $("set").value);
  const approx = $("search").querySelector("option[value=approx]");
  approx.disabled = !(set && set.search.modes.approx);
  if (approx.disabled && $("search").value === "approx") $("search").value = "";
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const known = (name) => state.sets.some((s) => s.name === name);
  if (known(params.get("set"))) $("set").value = params.get("set");
  updateOther();
  if (known(params.get("other")) && params.get("other") !== $("set").value) $("other").value = params.get("other");
  if (["exact", "approx"].includes(params.get("search"))) $("search").value = params.get("search");
  if (params.get("k")) $("k").value = params.get("k");
  return params.get("word");
}

function writeHash(word) {
  const c = current();
  const params = new URLSearchParams({ word, set: c.set, k: String(c.k) });
  if (c.other) params.set("other", c.other);
  if (c.search) params.set("search", c.search);
  const hash = "#" + params;
  if (location.hash !== hash) history.pushState(null, "", hash);
}

// -- autocomplete (an ARIA combobox) -----------------------------------------------------------------------
let completeTimer = null;

function closeSuggestions() {
  state.suggestions = [];
  state.active = -1;
  $("suggestions").hidden = true;
  $("suggestions").replaceChildren();
  $("word").setAttribute("aria-expanded", "false");
  $("word").removeAttribute("aria-activedescendant");
}

function showSuggestions(items) {
  state.suggestions = items;
  state.active = -1;
  const list = $("suggestions");
  list.replaceChildren(...items.map((item, i) => el("li", {
    id: "suggestion-" + i, role: "option", "aria-selected": "false",
    onmousedown: (event) => { event.preventDefault(); pick(i); },
  }, item.word, item.note ? el("small", { text: item.note }) : null)));
  list.hidden = items.length === 0;
  $("word").setAttribute("aria-expanded", String(items.length > 0));
}

function highlight(i) {
  const items = $("suggestions").children;
  state.active = i;
  for (let j = 0; j < items.length; j++) items[j].setAttribute("aria-selected", String(j === i));
  if (i >= 0) {
    $("word").setAttribute("aria-activedescendant", "suggestion-" + i);
    items[i].scrollIntoView({ block: "nearest" });
  } else {
    $("word").removeAttribute("aria-activedescendant");
  }
}

function pick(i) {
  const item = state.suggestions[i];
  if (!item) return;
  $("word").value = item.word;
  closeSuggestions();
  search(item.word);
}

async function complete() {
  const prefix = $("word").value.trim();
  const seq = ++state.completeSeq;
  if (!prefix) { closeSuggestions(); return; }
  try {
    const res = await api("/v1/complete", { prefix, limit: 8, set: $("set").value });
    if (seq !== state.completeSeq || document.activeElement !== $("word")) return;
    const items = res.completions.map((c) => ({ word: c.word, note: "" }))
      .concat(res.close_matches.map((w) => ({ word: w, note: "did you mean" })));
    showSuggestions(items.filter((item) => !(items.length === 1 && item.word === prefix)));
  } catch (err) {
    if (seq === state.completeSeq) closeSuggestions();
  }
}

function onWordKey(event) {
  const n = state.suggestions.length;
  if (event.key === "ArrowDown" && n) { event.preventDefault(); highlight((state.active + 1) % n); }
  else if (event.key === "ArrowUp" && n) { event.preventDefault(); highlight((state.active - 1 + n) % n); }
  else if (event.key === "Escape") { closeSuggestions(); }
  else if (event.key === "Enter" && state.active >= 0) { event.preventDefault(); pick(state.active); }
}

// -- neighbours, side by side ------------------------------------------------------------------------------
function describeSet(name, res) {
  const set = state.sets.find((s) => s.name === name);
  const size = set ? set.size.toLocaleString("en") + " words \u00d7 " + set.dim : "";
  return el("h3", {}, name, el("small", { text: [size, res ? res.kind + " search" : ""].filter(Boolean).join(" \u00b7 ") }));
}

function wordButton(word, extra) {
  return el("button", { type: "button", class: "word", "data-word": word, title: extra || "Explore " + word,
                        onclick: () => { $("word").value = word; search(word); } }, word);
}

function drawMap(res, shared) {
  const width = 420, height = 300, pad = 34;
  const xs = res.points.map((p) => p.x), ys = res.points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / ((x1 - x0) || 1)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / ((y1 - y0) || 1)) * (height - 2 * pad);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
                            "aria-label": `2-D PCA map of ${res.word} and its ${res.points.length - 1} neighbours` });
  // A label takes the first spot around its dot that covers no other label and no dot.
  const placed = res.points.map((p) => ({ x0: sx(p.x) - 5, x1: sx(p.x) + 5, y0: sy(p.y) - 5, y1: sy(p.y) + 5 }));
  const overlaps = (a) => placed.some((b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1);
  res.points.forEach((p, i) => {
    const cls = i === 0 ? "query" : (shared.has(p.word) ? "shared" : "");
    const [cx, cy] = [sx(p.x), sy(p.y)];
    const dot = svg("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: i === 0 ? 6 : 4, class: cls });
    dot.append(svg("title"));
    dot.firstChild.textContent = i === 0 ? p.word : `${p.word} (cosine ${p.score.toFixed(3)})`;
    const w = p.word.length * (i === 0 ? 7.8 : 6.6) + 2, h = i === 0 ? 15 : 13;
    const spots = [[cx + 7, cy + 4, "start"], [cx - 7, cy + 4, "end"], [cx - w / 2, cy - 9, "start"],
                   [cx - w / 2, cy + 17, "start"], [cx + 7, cy - 7, "start"], [cx - 7, cy + 15, "end"]];
    const box = ([x, y, anchor]) => {
      const x0 = anchor === "end" ? x - w : x;
      return { x0, x1: x0 + w, y0: y - h + 3, y1: y + 3 };
    };
    const inside = (b) => b.x0 >= 0 && b.x1 <= width && b.y0 >= 0 && b.y1 <= height;
    const spot = spots.find((c) => inside(box(c)) && !overlaps(box(c))) || spots.find((c) => inside(box(c))) || spots[0];
    placed.push(box(spot));
    const label = svg("text", { x: spot[0].toFixed(1), y: spot[1].toFixed(1), "text-anchor": spot[2], class: cls });
    label.textContent = p.word;
    root.append(dot, label);
  });
  const [e1, e2] = res.explained_variance.map((v) => Math.round(v * 100));
  return el("figure", { class: "map" }, root,
    el("figcaption", { text: `PCA of the ${res.points.length} unit vectors: axes explain ${e1}% and ${e2}% of their variance.` }));
}

function renderColumn(name, res, err, shared) {
  const column = el("article", { class: "column", "data-set": name }, describeSet(name, res));
  if (err) {
    const box = el("p", { class: "error" }, err.message + " ");
    const close = (err.info && err.info.close_matches) || [];
    if (close.length) box.append(el("span", { class: "suggest" }, ...close.map((w) => wordButton(w, "Did you mean " + w + "?"))));
    column.append(box);
    return column;
  }
  const list = el("ol", { class: "neighbours", "aria-label": `Neighbours of ${res.word} in ${name}` });
  for (const p of res.points.slice(1)) {
    const isShared = shared.has(p.word);
    const meter = el("span", { class: "meter", "aria-hidden": "true" }, el("span"));
    meter.firstChild.style.width = Math.max(0, Math.min(100, p.score * 100)).toFixed(1) + "%";
    list.append(el("li", { class: isShared ? "shared" : "" },
      wordButton(p.word, isShared ? "In both lists" : undefined), meter, el("span", { class: "score", text: p.score.toFixed(4) })));
  }
  column.append(list, drawMap(res, shared));
  return column;
}

async function search(word) {
  word = (word || $("word").value).trim();
  if (!word) { $("word").focus(); return; }
  closeSuggestions();
  writeHash(word);
  const c = current();
  const names = [c.set].concat(c.other ? [c.other] : []);
  const seq = ++state.querySeq;
  setStatus($("status"), `Searching ${names.join(" and ")} for ${word}\u2026`);
  const results = await Promise.all(names.map((set) =>
    api("/v1/map", { word, set, k: c.k, search: c.search }).then((res) => ({ res }), (err) => ({ err }))));
  if (seq !== state.querySeq) return;
  const ok = results.filter((r) => r.res);
  const lists = results.map((r) => (r.res ? r.res.points.slice(1).map((p) => p.word) : []));
  const shared = names.length === 2 && ok.length === 2 ? new Set(lists[0].filter((w) => lists[1].includes(w))) : new Set();
  $("columns").replaceChildren(...names.map((name, i) => renderColumn(name, results[i].res, results[i].err, shared)));
  const overlap = $("overlap");
  if (names.length === 2 && ok.length === 2) {
    const union = new Set(lists[0].concat(lists[1])).size;
    overlap.textContent = `${shared.size} of ${c.k} neighbours shared by ${names[0]} and ${names[1]}` +
      ` (Jaccard ${(union ? shared.size / union : 0).toFixed(2)})` + (shared.size ? ": " + [...shared].join(", ") : "");
    overlap.hidden = false;
  } else {
    overlap.hidden = true;
  }
  if (ok.length) setStatus($("status"), `Neighbours of \u201c${word}\u201d by cosine similarity.`);
  else setStatus($("status"), results[0].err.message, true);
}

// -- analogy -----------------------------------------------------------------------------------------------
async function solveAnalogy(event) {
  event.preventDefault();
  const [a, b, c] = ["a", "b", "c"].map((id) => $(id).value.trim());
  const out = $("analogy-results");
  if (!a || !b || !c) { setStatus($("analogy-status"), "Give three words: a is to b as c is to ?", true); return; }
  setStatus($("analogy-status"), "Solving\u2026");
  try {
    const cur = current();
    const res = await api("/v1/analogy", { a, b, c, k: 5, method: $("method").value, set: cur.set, search: cur.search });
    const label = res.method === "3cosmul" || res.method === "mul" ? "3CosMul score" : "cosine";
    out.replaceChildren(...res.answers.map((n) => {
      const meter = el("span", { class: "meter", "aria-hidden": "true" }, el("span"));
      meter.firstChild.style.width = Math.max(0, Math.min(100, n.score * 100)).toFixed(1) + "%";
      return el("li", {}, wordButton(n.word), meter, el("span", { class: "score", text: n.score.toFixed(4), title: label }));
    }));
    setStatus($("analogy-status"), `${a} is to ${b} as ${c} is to \u201c${res.answers.length ? res.answers[0].word : "?"}\u201d (${res.set}, ${label}).`);
  } catch (err) {
    out.replaceChildren();
    const close = (err.info && err.info.close_matches) || [];
    setStatus($("analogy-status"), err.message, true);
    if (close.length) $("analogy-status").append(" ", el("span", { class: "suggest" }, ...close.map((w) => wordButton(w))));
  }
}

// -- start -------------------------------------------------------------------------------------------------
async function start() {
  try {
    fillSets(await api("/v1/sets"));
  } catch (err) {
    setStatus($("status"), "Could not list the served sets: " + err.message, true);
    return;
  }
  $("query-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
  $("analogy-form").addEventListener("submit", solveAnalogy);
  $("word").addEventListener("input", () => { clearTimeout(completeTimer); completeTimer = setTimeout(complete, 120); });
  $("word").addEventListener("keydown", onWordKey);
  $("word").addEventListener("blur", () => setTimeout(closeSuggestions, 100));
  const rerun = () => { if ($("word").value.trim()) search(); };
  $("set").addEventListener("change", () => { updateOther(); rerun(); });
  for (const id of ["other", "search", "k"]) $(id).addEventListener("change", rerun);
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) { event.preventDefault(); $("word").focus(); $("word").select(); }
  });
  window.addEventListener("popstate", () => { const word = readHash(); if (word) { $("word").value = word; search(word); } });
  document.body.dataset.ready = "true";
  const word = readHash();
  if (word) { $("word").value = word; search(word); } else { $("word").focus(); }
}

document.addEventListener("DOMContentLoaded", start);
