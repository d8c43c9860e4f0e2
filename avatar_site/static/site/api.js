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
  if (signedOut(status, data)) {
    showSignedOut();
    const error = new ApiFailure(_("登录已失效，请重新登录。"), status, data);
    error.signedOut = true;
    throw error;
  }
  if (status >= 400 || data.status === "error") {
    throw new ApiFailure(data.message || data.detail || `HTTP ${status}`, status, data);
  }
  return data;
}

// DRF's NotAuthenticated, in the languages the site answers in: a 403 that says this means the
// session has ended (other 403s, such as a refused permission, do not).
const NOT_AUTHENTICATED = ["身份认证信息未提供。", "Authentication credentials were not provided."];

// The session has expired, or the user signed out in another tab: every request will now be
// refused, so asking again is useless until the user signs in.
function signedOut(status, data) {
  const message = data.message || data.detail;
  return status === 401 || data.code === "not_authenticated" || (status === 403 && NOT_AUTHENTICATED.includes(message));
}

// One notice at the top of the page, whichever request found out, with a link back to the login
// page that returns here afterwards.
export function showSignedOut() {
  const main = document.querySelector("main") || document.body;
  let notice = document.getElementById("signed-out");
  if (!notice) {
    notice = document.createElement("p");
    notice.id = "signed-out";
    notice.className = "message error";
    notice.setAttribute("role", "alert");
    notice.style.cssText = "position: sticky; top: 0; z-index: 10; margin: 0 0 1rem;";
    const link = document.createElement("a");
    link.textContent = _("重新登录");
    notice.append(`${_("登录已失效，请重新登录。")} `, link);
    main.prepend(notice);
  }
  const login = document.querySelector('meta[name="login-url"]')?.content || "/accounts/login/";
  const next = new URLSearchParams({ next: location.pathname + location.search });
  notice.querySelector("a").href = `${login}?${next}`;
  notice.hidden = false;
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
// onProgress(100) means the whole body is sent: the server is then acting on it, so abort()
// refuses (returns false) rather than lose the answer of a job the server has started.
export function upload(url, formData, onProgress) {
  const xhr = new XMLHttpRequest();
  let sent = false;
  const progress = (percent) => {
    if (percent >= 100) sent = true;
    if (onProgress) onProgress(percent);
  };
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) progress(Math.round((100 * event.loaded) / event.total));
    };
    xhr.upload.onload = () => progress(100);
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
  const abort = () => {
    if (sent) return false;
    xhr.abort();
    return true;
  };
  return { promise, abort };
}

// Why `file` cannot go up through the file input `input`, or "" when it can: the input's
// data-max-bytes (the server's upload limit) and its accept list. A type the browser cannot
// name passes: the server checks every upload by its content anyway.
export function fileProblem(input, file) {
  const limit = Number(input.dataset.maxBytes) || 0;
  if (limit && file.size > limit) {
    return `${_("文件太大")}: ${megabytes(file.size)} MB, ${_("上限为")} ${megabytes(limit)} MB`;
  }
  if (!accepts(input.accept, file)) return `${_("不支持的文件类型")}: ${file.type}`;
  return "";
}

function megabytes(bytes) {
  return Number((bytes / 1024 ** 2).toFixed(1)).toString();
}

// Names browsers may give a type of another family (".ts" as a translation file, ".ogg" as
// "application/ogg"): with "audio/*" or "video/*" accepted, these names pass whatever the type.
const MEDIA_SUFFIXES = /\.(wav|mp3|flac|ogg|oga|opus|webm|m4a|aac|amr|wma|mp4|m4v|mov|mkv|avi|ts|mts|3gp|flv|wmv)$/;

function accepts(accept, file) {
  const patterns = accept.split(",").map((pattern) => pattern.trim().toLowerCase()).filter(Boolean);
  if (!patterns.length || !file.type) return true;
  const type = file.type.toLowerCase();
  const name = file.name.toLowerCase();
  return patterns.some((pattern) => {
    if (pattern.startsWith(".")) return name.endsWith(pattern);
    if (pattern === "audio/*" || pattern === "video/*") {
      return type.startsWith(pattern.slice(0, -1)) || MEDIA_SUFFIXES.test(name);
    }
    if (pattern.endsWith("/*")) return type.startsWith(pattern.slice(0, -1));
    return type === pattern;
  });
}

const FINISHED = ["succeeded", "failed", "cancelled"];
// Answers that say the task is not ours to see (signed out, another user's, gone): asking again is useless.
const FINAL_STATUSES = [401, 403, 404];

// A failed reading worth asking again: no connection, a server or proxy error (a 502 page), a
// body that is not JSON, or being told to slow down.
function transient(error) {
  if (!(error instanceof ApiFailure) || FINAL_STATUSES.includes(error.status)) return false;
  return error.status === 0 || error.status === 429 || error.status >= 500 || error.data === null;
}

// Poll /api/tasks/<id> until the task ends; onUpdate gets every reading. Resolves with the
// finished task. A transient failure is retried with growing pauses, and onRetry(error) tells the
// page; after giveUpMs of nothing but failures the promise rejects with the last error, marked
// `unfinished` (the task may still run). `stop()` or aborting `signal` ends polling early: the
// promise then rejects with an error marked `stopped`.
export function pollTask(taskId, onUpdate, { intervalMs = 1000, giveUpMs = 60000, onRetry = null, signal = null } = {}) {
  let timer = null;
  let stopped = false;
  let rejectPromise = null;
  const promise = new Promise((resolve, reject) => {
    rejectPromise = reject;
    let failures = 0;
    let failingSince = 0;
    const tick = async () => {
      if (stopped) return;
      let delay = intervalMs;
      try {
        const task = await api(`/api/tasks/${encodeURIComponent(taskId)}`);
        if (stopped) return;
        failures = 0;
        onUpdate(task);
        if (FINISHED.includes(task.task_status)) return resolve(task);
      } catch (error) {
        if (stopped) return;
        if (!transient(error)) return reject(error);
        failures += 1;
        if (failures === 1) failingSince = Date.now();
        if (Date.now() - failingSince >= giveUpMs) {
          error.message = `${_("无法查询任务状态，任务可能仍在运行")}: ${error.message}`;
          error.unfinished = true;
          return reject(error);
        }
        if (onRetry) onRetry(error);
        delay = Math.min(intervalMs * 2 ** failures, 10 * intervalMs);
      }
      timer = setTimeout(tick, delay);
    };
    tick();
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    const error = new ApiFailure(_("已停止跟踪任务"), 0, null);
    error.stopped = true;
    rejectPromise(error);
  };
  if (signal) {
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  }
  return { promise, stop };
}

// The newest of the user's own queued or running tasks of one history type ("model_training"…),
// as its history item (task_id, parameters), or null: what a reloaded page was following
// (mine=1: staff would otherwise pick up other users' tasks).
export async function latestUnfinished(type) {
  const pages = await Promise.all(["running", "queued"].map((status) =>
    api(`/api/history/${encodeURIComponent(type)}?${new URLSearchParams({ status, page_size: 5, mine: 1 })}`)));
  const items = pages.flatMap((page) => page.history).filter((item) => item.task_id);
  // Timestamps are to the second; within one, the record made later has the larger number.
  const order = (item) => [item.timestamp, Number(item.id.replace(/\D/g, "")) || 0];
  items.sort((a, b) => {
    const [timeA, numberA] = order(a);
    const [timeB, numberB] = order(b);
    return timeA === timeB ? numberB - numberA : (timeA < timeB ? 1 : -1);
  });
  return items[0] || null;
}

// A row's delete button for a user's own voice or avatar at `url`: asks first, then shows the
// server's answer in `messageElement` (409 while a queued or running task uses it) and calls
// `onDeleted` when it is gone.
// A table row's delete button for `name` (the confirmation names it); the answer shows in
// `messageElement`, beside the table.
export function deleteButton(url, name, messageElement, onDeleted) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "danger";
  button.textContent = _("删除");
  button.addEventListener("click", async () => {
    if (!window.confirm(`${_("删除")} “${name}”${_("？")}${_("删除后无法恢复。")}`)) return;
    button.disabled = true;
    try {
      const answer = await api(url, { method: "DELETE" });
      showMessage(messageElement, serverMessage(answer.message), "ok");
      await onDeleted();
    } catch (error) {
      showMessage(messageElement, error.message, "error");
      button.disabled = false;
    }
  });
  return button;
}

// Ask the server to cancel a task: a queued one ends at once, a running one when its job notices.
export function cancelTask(taskId) {
  return api(`/api/tasks/${encodeURIComponent(taskId)}/cancel`, { method: "POST" });
}

// A page's cancel button for the task it follows (`currentTask()`, null when none): asks the
// server and shows its answer in `messageElement`; usable again if the request failed.
export function cancelButton(button, currentTask, messageElement) {
  button.addEventListener("click", async () => {
    const taskId = currentTask();
    if (!taskId) return;
    button.disabled = true;
    try {
      showMessage(messageElement, serverMessage((await cancelTask(taskId)).message), "info");
    } catch (error) {
      showMessage(messageElement, error.message, "error");
      button.disabled = false;
    }
  });
}

// What a reloaded page should take up again: latestUnfinished(type), or null (a failed lookup
// is shown in `messageElement`).
export async function taskToResume(type, messageElement) {
  try {
    return await latestUnfinished(type);
  } catch (error) {
    showMessage(messageElement, error.message, "error");
    return null;
  }
}

// Submit a job request with async=1 and follow its task; resolves with the finished task,
// rejects with ApiFailure carrying the server's message when it failed or was cancelled.
// `options` go to pollTask (onRetry, signal).
export async function runJob(url, formData, onUpdate, options = {}) {
  formData.set("async", "1");
  const answer = await api(url, { method: "POST", body: formData });
  return followAnswer(answer, onUpdate, options);
}

export async function followAnswer(answer, onUpdate, options = {}) {
  if (!answer.task_id) return { task_status: "succeeded", progress: 100, result: answer };
  const task = await pollTask(answer.task_id, onUpdate, options).promise;
  if (task.task_status === "cancelled") {
    const error = new ApiFailure(task.message || _("任务已取消"), 409, task);
    error.cancelled = true;
    throw error;
  }
  if (task.task_status !== "succeeded") throw new ApiFailure(task.message || _("任务失败"), 500, task);
  return task;
}

// The API's success messages are the spec's Chinese whatever the client's language; the pages
// show them in the page's language.
const SERVER_MESSAGES = {
  "模型训练开始": _("模型训练开始"),
  "声音已删除": _("声音已删除"),
  "模型已删除": _("模型已删除"),
  "任务已取消": _("任务已取消"),
  "已请求取消任务": _("已请求取消任务"),
};

export function serverMessage(text) {
  return SERVER_MESSAGES[text] || text;
}

export function showMessage(element, text, kind = "info") {
  element.textContent = kind === "error" ? labelled(text || "") : text || "";
  element.className = `message ${kind}`;
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

// The server names a refused field by its API name ("ref_audio_id：…"); the page's user knows it
// by the label of the form field of that name ("克隆声音：…").
function labelled(text) {
  const match = /^([a-z_]+)(：|: )/.exec(text);
  const field = match && document.querySelector(`[name="${match[1]}"]`);
  const label = field && field.closest("label");
  const name = label && label.firstChild && label.firstChild.nodeType === Node.TEXT_NODE && label.firstChild.textContent.trim();
  return name ? `${name}${match[2]}${text.slice(match[0].length)}` : text;
}

// Run `action` with `button` disabled; errors go to `messageElement` (never an alert()), and a
// request the server refused hides `progress` (its bar would keep showing the upload).
export async function whileBusy(button, messageElement, action, progress = null) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (messageElement) showMessage(messageElement, error.message, error.cancelled || error.aborted ? "info" : "error");
    if (progress) progress.refused(error);
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
    // A succeeded job's message only repeats its status ("Done."), and so may a cancelled one's
    // ("Cancelled."); running, failed or cancelled before it started: it says what.
    const label = statusLabel(task.task_status);
    const repeats = task.task_status === "succeeded" || (task.message || "").replace(/[.。]$/, "") === label;
    const detail = task.message && !repeats ? ` · ${task.message}` : "";
    this.set(task.progress || 0, `${label}${detail}`);
    if (this.log && task.log_tail !== undefined) {
      this.log.textContent = task.log_tail;
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  // A request that failed before any task ran (refused, or the network broke) leaves nothing to
  // show; a task's own end, an aborted upload or a task lost track of keep their reading.
  refused(error) {
    const taskEnded = Boolean(error.data && error.data.task_status);
    if (!taskEnded && !error.aborted && !error.unfinished) this.root.hidden = true;
  }

  // A status query failed and will be asked again: the bar keeps its last reading.
  retrying(error) {
    this.text.textContent = `${_("连接中断，正在重试…")} (${error.message})`;
  }
}

// The GPU choices the chosen engine allows: every one when this host runs it, else only the GPU
// queues whose worker reported it usable (a web host of a site on several hosts has no GPU engine
// checkouts). Returns the function to call again after setting the engine from code.
export function followEngineQueues(engineSelect, gpuSelect) {
  const apply = () => {
    const chosen = engineSelect.selectedOptions[0];
    const queues = chosen && chosen.dataset.queues ? chosen.dataset.queues.split(",") : [];
    const some = Boolean(chosen) && !("here" in chosen.dataset) && queues.length > 0;
    for (const option of gpuSelect.options) option.disabled = some && !queues.includes(option.value);
    if (gpuSelect.selectedOptions[0]?.disabled) {
      const allowed = [...gpuSelect.options].find((option) => !option.disabled);
      if (allowed) gpuSelect.value = allowed.value;
    }
  };
  engineSelect.addEventListener("change", apply);
  apply();
  return apply;
}

// A SyncTalk or ER-NeRF avatar's data stays on the host that trained it: choosing an avatar selects the
// GPU it was trained on, when that GPU is offered. Returns the function to call after refilling avatars.
export function followAvatarGpu(avatarSelect, gpuSelect, currentAvatars) {
  const apply = () => {
    const chosen = currentAvatars().find((item) => item.model_param === avatarSelect.value);
    const trainedOn = chosen && [...gpuSelect.options].find((option) => option.value === chosen.gpu && !option.disabled);
    if (trainedOn) gpuSelect.value = trainedOn.value;
  };
  avatarSelect.addEventListener("change", apply);
  return apply;
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
    .map((avatar) => ({
      value: avatar.model_param,
      // Named first: a user tells their avatars apart by what they called them (or the video's name).
      label: avatar.name ? `${avatar.name} · ${avatar.id}` : `${avatar.id} · ${avatar.created_at}`,
    }));
}

export function voiceOptions(voices) {
  return voices.map((voice) => ({ value: voice.id, label: voice.name && voice.name !== voice.id ? `${voice.name} (${voice.id})` : voice.id }));
}
