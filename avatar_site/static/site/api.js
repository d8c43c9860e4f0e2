// Shared helpers for the pages: JSON calls with CSRF, uploads with progress, task polling,
// messages and busy buttons. Every failure surfaces the server's `message`.

export const _ = (text) => (window.gettext ? window.gettext(text) : text);

export function csrfToken() {
  const cookie = document.cookie.split("; ").find((row) => row.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export class ApiFailure extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

function parseAnswer(status, text) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiFailure(`${_("服务器返回了无法解析的响应")} (HTTP ${status})`, status, null);
  }
  if (status >= 400 || data.status === "error") {
    throw new ApiFailure(data.message || data.detail || `HTTP ${status}`, status, data);
  }
  return data;
}

// GET or POST (FormData/object) to the API; resolves with the JSON body, rejects with ApiFailure.
export async function api(url, { method = "GET", body = null } = {}) {
  const headers = { Accept: "application/json" };
  let payload = body;
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body && !(body instanceof FormData)) {
    payload = new FormData();
    for (const [key, value] of Object.entries(body)) payload.append(key, value);
  }
  let response;
  try {
    response = await fetch(url, { method, body: payload, headers, credentials: "same-origin" });
  } catch (error) {
    throw new ApiFailure(`${_("网络错误")}: ${error.message}`, 0, null);
  }
  return parseAnswer(response.status, await response.text());
}

// POST a FormData with XMLHttpRequest so the page can show upload progress and abort it.
// Returns {promise, abort}; an aborted upload rejects with ApiFailure whose `aborted` is true.
export function upload(url, formData, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(Math.round((100 * event.loaded) / event.total));
    };
    xhr.upload.onload = () => onProgress && onProgress(100);
    xhr.onload = () => {
      try {
        resolve(parseAnswer(xhr.status, xhr.responseText));
      } catch (error) {
        reject(error);
      }
    };
    xhr.onerror = () => reject(new ApiFailure(_("网络错误，上传失败"), 0, null));
    xhr.onabort = () => {
      const error = new ApiFailure(_("上传已取消"), 0, null);
      error.aborted = true;
      reject(error);
    };
    xhr.send(formData);
  });
  return { promise, abort: () => xhr.abort() };
}

const FINISHED = ["succeeded", "failed", "cancelled"];

// Poll /api/tasks/<id> until the task ends; onUpdate gets every reading. Resolves with the
// finished task; `stop()` ends polling early (the promise then never settles).
export function pollTask(taskId, onUpdate, intervalMs = 1000) {
  let timer = null;
  let stopped = false;
  const promise = new Promise((resolve, reject) => {
    const tick = async () => {
      if (stopped) return;
      try {
        const task = await api(`/api/tasks/${encodeURIComponent(taskId)}`);
        onUpdate(task);
        if (FINISHED.includes(task.task_status)) return resolve(task);
      } catch (error) {
        return reject(error);
      }
      timer = setTimeout(tick, intervalMs);
    };
    tick();
  });
  return { promise, stop: () => { stopped = true; clearTimeout(timer); } };
}

// Submit a job request with async=1 and follow its task; resolves with the finished task,
// rejects with ApiFailure carrying the server's message when it failed or was cancelled.
export async function runJob(url, formData, onUpdate, onSubmitted) {
  formData.set("async", "1");
  const answer = await api(url, { method: "POST", body: formData });
  return followAnswer(answer, onUpdate, onSubmitted);
}

export async function followAnswer(answer, onUpdate, onSubmitted) {
  if (!answer.task_id) return { task_status: "succeeded", progress: 100, result: answer };
  if (onSubmitted) onSubmitted(answer.task_id);
  const task = await pollTask(answer.task_id, onUpdate).promise;
  if (task.task_status === "cancelled") {
    const error = new ApiFailure(task.message || _("任务已取消"), 409, task);
    error.cancelled = true;
    throw error;
  }
  if (task.task_status !== "succeeded") throw new ApiFailure(task.message || _("任务失败"), 500, task);
  return task;
}

export function showMessage(element, text, kind = "info") {
  element.textContent = text || "";
  element.className = `message ${kind}`;
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

// Run `action` with `button` disabled; errors go to `messageElement` (never an alert()).
export async function whileBusy(button, messageElement, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (messageElement) showMessage(messageElement, error.message, error.cancelled || error.aborted ? "info" : "error");
    return undefined;
  } finally {
    button.disabled = false;
  }
}

const STATUS_LABELS = {
  queued: _("排队中"), running: _("运行中"), succeeded: _("已完成"), completed: _("已完成"),
  failed: _("失败"), cancelled: _("已取消"), ready: _("可用"), training: _("训练中"),
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}

// A <progress> with its text line: show(task) renders a task reading.
export class ProgressView {
  constructor(root) {
    this.root = root;
    this.bar = root.querySelector("progress");
    this.percent = root.querySelector("[data-percent]");
    this.text = root.querySelector("[data-text]");
    this.log = root.querySelector("pre.log");
  }

  reset(text = "") {
    this.root.hidden = false;
    this.set(0, text);
    if (this.log) this.log.textContent = "";
  }

  set(percent, text) {
    this.bar.value = percent;
    this.percent.textContent = `${Math.round(percent)}%`;
    if (text !== undefined) this.text.textContent = text;
  }

  show(task) {
    const detail = task.message ? ` · ${task.message}` : "";
    this.set(task.progress || 0, `${statusLabel(task.task_status)}${detail}`);
    if (this.log && task.log_tail !== undefined) {
      this.log.textContent = task.log_tail;
      this.log.scrollTop = this.log.scrollHeight;
    }
  }
}

// Replace a <select>'s options; keeps the current value when it is still offered.
export function fillSelect(select, items, emptyText) {
  const previous = select.value;
  select.replaceChildren();
  if (!items.length) {
    const option = new Option(emptyText, "");
    option.disabled = true;
    option.selected = true;
    select.append(option);
    return;
  }
  for (const item of items) select.append(new Option(item.label, item.value));
  if (items.some((item) => item.value === previous)) select.value = previous;
}

export function cacheBusted(url) {
  return `${url}${url.includes("?") ? "&" : "?"}t=${Date.now()}`;
}

export async function loadAvatars() {
  return (await api("/api/avatars")).avatars;
}

export async function loadVoices() {
  return (await api("/api/cloned-audios")).audios;
}

export function avatarOptions(avatars, engine) {
  return avatars
    .filter((avatar) => !engine || avatar.engine === engine)
    .map((avatar) => ({ value: avatar.model_param, label: `${avatar.id} · ${avatar.engine} · ${avatar.created_at}` }));
}

export function voiceOptions(voices) {
  return voices.map((voice) => ({ value: voice.id, label: voice.name && voice.name !== voice.id ? `${voice.name} (${voice.id})` : voice.id }));
}
