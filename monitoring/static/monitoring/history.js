import { _, api, showMessage, statusLabel } from "/static/site/api.js";

const tabs = [...document.querySelectorAll("#tabs [data-type]")];
const statusFilter = document.getElementById("status-filter");
const pageSize = document.getElementById("page-size");
const rows = document.querySelector("#history tbody");
const empty = document.getElementById("empty");
const message = document.getElementById("history-message");
const previous = document.getElementById("previous");
const next = document.getElementById("next");
const pageLabel = document.getElementById("page-label");
const state = { type: tabs[0].dataset.type, page: 1, pages: 1, request: 0 };

// The filter names each status as the table does.
for (const option of statusFilter.options) {
  if (option.value) option.textContent = statusLabel(option.value);
}

// Result fields that name a playable file, and the element that plays it.
const MEDIA = { video_path: "video", cloned_audio_path: "audio", reference_audio: "audio" };

function resultCell(cell, record) {
  const result = record.result || {};
  if (result.message && record.status !== "completed") {
    const failure = document.createElement("div");
    failure.className = `message ${record.status === "cancelled" ? "info" : "error"}`;
    failure.textContent = result.message;
    cell.append(failure);
  }
  for (const [key, kind] of Object.entries(MEDIA)) {
    const url = result[key];
    if (typeof url !== "string" || !url.startsWith("/")) continue;
    const link = document.createElement("a");
    link.href = url;
    link.target = "_blank";
    link.textContent = kind === "video" ? _("视频") : _("音频");
    link.dataset.kind = kind;
    cell.append(link, " ");
  }
  const extra = { ...result };
  // http_status repeats what the message says, for clients that waited on the request.
  for (const key of ["message", "files", "http_status", ...Object.keys(MEDIA)]) delete extra[key];
  if (Object.keys(extra).length) cell.append(details(_("详情"), extra));
  if (record.task_id && ["failed", "cancelled"].includes(record.status) && !isClone(record)) {
    cell.append(retryButton(record.task_id));
  }
}

// A voice clone never runs again (its uploaded reference is gone): the server refuses, so no button.
const isClone = (record) => state.type === "audio_clone" && (record.parameters || {}).mode === "clone";

// Runs the row's task again as a new task (the server refuses what cannot run again, e.g. a
// voice clone, whose reference must be sent anew); the new task's row appears on the first page.
function retryButton(taskId) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "retry";
  button.textContent = _("重试");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api(`/api/tasks/${encodeURIComponent(taskId)}/retry`, { method: "POST" });
      await load({ page: 1 });
      showMessage(message, `${_("已重新排队")}: ${answer.task_id}`, "ok");
    } catch (error) {
      showMessage(message, error.message, "error");
      button.disabled = false;
    }
  });
  return button;
}

function details(summary, value) {
  const box = document.createElement("details");
  const label = document.createElement("summary");
  label.textContent = summary;
  box.append(label, fieldList(value));
  return box;
}

// A row's parameters or result as name → value lines (nested objects, e.g. custom_params,
// indented beneath their name); the names are the API's field names, which clients know.
function fieldList(value) {
  const list = document.createElement("dl");
  list.className = "fields";
  for (const [key, item] of Object.entries(value)) {
    const name = document.createElement("dt");
    name.textContent = key;
    const text = document.createElement("dd");
    if (item !== null && typeof item === "object" && !Array.isArray(item)) text.append(fieldList(item));
    else text.textContent = Array.isArray(item) ? item.map(shown).join(", ") : shown(item);
    list.append(name, text);
  }
  return list;
}

const shown = (item) => (item !== null && typeof item === "object" ? JSON.stringify(item) : String(item));

// The parameters that tell rows apart, each kept whole on its line (the cell wraps between them).
function summarise(parameters) {
  const shown = ["model_name", "model_choice", "model_param", "audio_id", "ref_audio_id", "gpu_choice", "epoch"];
  const summary = document.createElement("div");
  summary.className = "summary";
  for (const key of shown.filter((name) => parameters[name] !== undefined && parameters[name] !== "")) {
    const item = document.createElement("span");
    item.textContent = `${key}=${parameters[key]}`;
    summary.append(item);
  }
  return summary;
}

// Load one page of one type; `state` follows only a successful answer, so after a failure the
// pager still tells (and moves from) the page on show.
async function load({ type = state.type, page = state.page } = {}) {
  const query = new URLSearchParams({ page, page_size: pageSize.value });
  if (statusFilter.value) query.set("status", statusFilter.value);
  previous.disabled = next.disabled = true;
  // Clicks can outrun answers: only the latest request may fill the table.
  const request = ++state.request;
  try {
    const answer = await api(`/api/history/${type}?${query}`);
    if (request !== state.request) return;
    // Rows went away (pruned, deleted) under the page on show: the API answers past the end with none.
    if (answer.page > answer.num_pages) return load({ type, page: answer.num_pages });  // num_pages is at least 1
    state.type = type;
    state.page = answer.page;
    state.pages = answer.num_pages;
    tabs.forEach((tab) => tab.setAttribute("aria-selected", String(tab.dataset.type === type)));
    rows.replaceChildren(...answer.history.map((record) => {
      const row = document.createElement("tr");
      row.dataset.id = record.id;
      row.insertCell().textContent = record.timestamp;
      const badge = document.createElement("span");
      badge.className = `badge ${record.status}`;
      badge.textContent = statusLabel(record.status);
      row.insertCell().append(badge);
      row.insertCell().textContent = record.duration == null ? "—" : `${record.duration.toFixed(1)} s`;
      const parameters = row.insertCell();
      parameters.append(summarise(record.parameters || {}), details(_("全部参数"), record.parameters || {}));
      resultCell(row.insertCell(), record);
      return row;
    }));
    empty.hidden = answer.history.length > 0;
    pageLabel.textContent = `${answer.page} / ${answer.num_pages} · ${_("共")} ${answer.total_count}`;
    showMessage(message, "");
  } catch (error) {
    if (request === state.request) showMessage(message, error.message, "error");
  } finally {
    if (request === state.request) {
      previous.disabled = state.page <= 1;
      next.disabled = state.page >= state.pages;
    }
  }
}

for (const tab of tabs) {
  tab.addEventListener("click", () => load({ type: tab.dataset.type, page: 1 }));
}
statusFilter.addEventListener("change", () => load({ page: 1 }));
pageSize.addEventListener("change", () => load({ page: 1 }));
previous.addEventListener("click", () => load({ page: state.page - 1 }));
next.addEventListener("click", () => load({ page: state.page + 1 }));

load();
