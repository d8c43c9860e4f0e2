import {
  _, ProgressView, api, avatarOptions, cacheBusted, fillSelect, followAnswer, followAvatarGpu, followEngineQueues,
  loadAvatars, loadVoices, showMessage, voiceOptions,
} from "/static/site/api.js";
import { Recorder } from "/static/site/recorder.js";

const form = document.getElementById("chat-form");
const engine = document.getElementById("engine");
const gpu = document.getElementById("gpu");
followEngineQueues(engine, gpu);
const avatar = document.getElementById("avatar");
const followAvatar = followAvatarGpu(avatar, gpu, () => avatars);
const voice = document.getElementById("voice");
const llm = document.getElementById("llm");
const talk = document.getElementById("talk");
const talkTime = document.getElementById("talk-time");
const message = document.getElementById("chat-message");
const progress = new ProgressView(document.getElementById("chat-progress"));
const newConversation = document.getElementById("new-conversation");
const conversationLabel = document.getElementById("conversation-id");
const turns = document.getElementById("turns");
const template = document.getElementById("turn-template");
const maxSeconds = Number(talk.dataset.maxSeconds) || 60;
const recorder = new Recorder();
let avatars = [];
let conversationId = "";
let shownTurns = []; // {transcript, response, video_path}: kept for this tab across reloads
let pendingTask = ""; // the turn on its way, followed again after a reload of this tab
let busy = false;
let timer = null;
let starting = null;

async function loadChoices() {
  try {
    avatars = await loadAvatars();
    showAvatars();
    fillSelect(voice, voiceOptions(await loadVoices()), _("还没有克隆好的声音"));
    if (llmProblem()) showMessage(message, llmProblem(), "error");
  } catch (error) {
    showMessage(message, error.message, "error");
  }
}

// Without a usable language model no reply can come: say why (what to configure) before recording.
function llmProblem() {
  if (llm.value) return "";
  return llm.querySelector("option[disabled]")?.title || _("没有可用的对话模型");
}

function showAvatars() {
  fillSelect(avatar, avatarOptions(avatars, engine.value), _("该引擎还没有训练好的模型"));
  followAvatar();
}

engine.addEventListener("change", showAvatars);

async function startTalking() {
  if (busy || recorder.recording || starting) return;
  if (!avatar.value || !voice.value) {
    showMessage(message, _("请先选择数字人模型和克隆声音"), "error");
    return;
  }
  if (llmProblem()) {
    showMessage(message, llmProblem(), "error");
    return;
  }
  showMessage(message, "");
  starting = recorder.start();
  try {
    await starting;
  } catch (error) {
    showMessage(message, error.message, "error");
    return;
  } finally {
    starting = null;
  }
  talk.classList.add("recording");
  talk.textContent = _("松开发送");
  timer = setInterval(() => {
    const seconds = recorder.seconds();
    talkTime.textContent = `${seconds.toFixed(1)} s`;
    if (seconds >= maxSeconds) stopTalking();
  }, 200);
}

async function stopTalking() {
  if (starting) await starting.catch(() => {});
  if (!recorder.recording) return;
  clearInterval(timer);
  talk.classList.remove("recording");
  talk.textContent = _("按住说话");
  const seconds = recorder.seconds();
  const audio = await recorder.stop();
  if (seconds < 0.5) {
    showMessage(message, _("录音太短，请按住按钮说话"), "error");
    return;
  }
  send(audio);
}

// While a turn is on its way, the conversation cannot be swapped: its reply would bring it back.
function setBusy(value) {
  busy = value;
  talk.disabled = value;
  newConversation.disabled = value;
}

function send(audio) {
  const data = new FormData(form);
  data.set("audio", audio, audio.name);
  data.set("async", "1");
  if (conversationId) data.set("conversation_id", conversationId);
  return follow(() => api("/chat_system", { method: "POST", body: data }), _("提交中…"));
}

// Follow one turn's task (`request` answers with it) to its reply.
async function follow(request, startText) {
  setBusy(true);
  progress.reset(startText);
  try {
    const answer = await request();
    pendingTask = answer.task_id || "";
    remember();
    const task = await followAnswer(answer, (t) => progress.show(t), {
      onRetry: (error) => progress.retrying(error),
    });
    progress.set(100);
    setConversation(task.result.conversation_id);
    addTurn(task.result);
    showMessage(message, "");
  } catch (error) {
    showMessage(message, error.message, error.cancelled ? "info" : "error");
    progress.refused(error);
  } finally {
    pendingTask = "";
    remember();
    setBusy(false);
  }
}

function setConversation(id) {
  if (id !== conversationId) {
    shownTurns = [];
    turns.replaceChildren();
  }
  conversationId = id;
  conversationLabel.textContent = id || "—";
  remember();
}

function addTurn(result, scroll = true) {
  const turn = template.content.firstElementChild.cloneNode(true);
  turn.querySelector("[data-transcript]").textContent = result.transcript;
  turn.querySelector("[data-reply]").textContent = result.response;
  turn.querySelector("video").src = cacheBusted(result.video_path);
  turns.append(turn);
  if (scroll) turn.scrollIntoView({ block: "nearest" });
  shownTurns.push({ transcript: result.transcript, response: result.response, video_path: result.video_path });
  remember();
}

// A reload keeps the conversation and its turns (per tab), and takes up a turn still on its way.
const STORAGE_KEY = "chat.conversation";

function remember() {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ id: conversationId, turns: shownTurns, pending: pendingTask }));
}

function restore() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
  } catch {
    saved = null;
  }
  if (!saved) return;
  pendingTask = saved.pending || ""; // first: what follows writes the storage again
  if (saved.id) setConversation(saved.id);
  for (const turn of saved.turns || []) addTurn(turn, false);
}

// Only this tab's own turn: another tab's belongs to another conversation.
async function resume() {
  if (!pendingTask || busy) return;
  showMessage(message, _("继续跟踪未完成的对话"), "info");
  const taskId = pendingTask;
  await follow(async () => ({ task_id: taskId }), _("排队中"));
}

talk.addEventListener("pointerdown", (event) => {
  talk.setPointerCapture(event.pointerId);
  startTalking();
});
talk.addEventListener("pointerup", stopTalking);
talk.addEventListener("pointercancel", stopTalking);
talk.addEventListener("contextmenu", (event) => event.preventDefault());
talk.addEventListener("keydown", (event) => {
  if (event.code === "Space" && !event.repeat) {
    event.preventDefault();
    startTalking();
  }
});
talk.addEventListener("keyup", (event) => {
  if (event.code === "Space") stopTalking();
});

newConversation.addEventListener("click", () => {
  if (busy) return;
  setConversation("");
  showMessage(message, _("已开始新对话"), "info");
});

restore();
loadChoices();
resume();
