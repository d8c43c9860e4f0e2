import {
  _, ProgressView, api, avatarOptions, cacheBusted, cancelButton, fillSelect, followAnswer, followAvatarGpu, followEngineQueues,
  loadAvatars, loadVoices, showMessage, taskToResume, voiceOptions, whileBusy,
} from "/static/site/api.js";

const form = document.getElementById("generate-form");
const engine = document.getElementById("engine");
const avatar = document.getElementById("avatar");
const voice = document.getElementById("voice");
const button = document.getElementById("generate");
const cancel = document.getElementById("cancel-generate");
const message = document.getElementById("generate-message");
const progress = new ProgressView(document.getElementById("generate-progress"));
const result = document.getElementById("result");
const video = document.getElementById("video");
const download = document.getElementById("download");
let wantedAvatar = new URLSearchParams(location.search).get("avatar");
let wantedVoice = null;
let avatars = [];
let currentTask = null;
const gpu = document.getElementById("gpu");
const followGpus = followEngineQueues(engine, gpu);
const followAvatar = followAvatarGpu(avatar, gpu, () => avatars);

function showAvatars() {
  fillSelect(avatar, avatarOptions(avatars, engine.value), _("该引擎还没有训练好的模型"));
  if (avatars.some((a) => a.model_param === wantedAvatar && a.engine === engine.value)) avatar.value = wantedAvatar;
  followAvatar();
}

async function loadChoices() {
  try {
    avatars = await loadAvatars();
    const wanted = avatars.find((a) => a.model_param === wantedAvatar);
    if (wanted) engine.value = wanted.engine;
    followGpus();
    showAvatars();
    const voices = await loadVoices();
    fillSelect(voice, voiceOptions(voices), _("还没有克隆好的声音"));
    if (voices.some((v) => v.id === wantedVoice)) voice.value = wantedVoice;
    // Where to make them, only while one of the two is missing.
    document.getElementById("missing-choices").hidden = avatars.length > 0 && voices.length > 0;
  } catch (error) {
    showMessage(message, error.message, "error");
  }
}

engine.addEventListener("change", showAvatars);

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!avatar.value || !voice.value) {
    showMessage(message, _("请先选择数字人模型和克隆声音"), "error");
    return;
  }
  whileBusy(button, message, async () => {
    showMessage(message, "");
    result.hidden = true;
    progress.reset(_("提交中…"));
    const data = new FormData(form);
    data.set("async", "1");
    await follow(await api("/video_generation", { method: "POST", body: data }));
  }, progress);
});

// Follow a render to its video, with its cancel button shown while it may still run.
async function follow(answer) {
  currentTask = answer.task_id || null;
  cancel.hidden = !currentTask;
  cancel.disabled = false;
  let ended = true;
  try {
    const task = await followAnswer(answer, (t) => progress.show(t), {
      onRetry: (error) => progress.retrying(error),
    });
    progress.set(100);
    const url = task.result.video_path;
    // The same file name can be rendered again: the timestamp keeps the browser from replaying an old copy.
    video.src = cacheBusted(url);
    download.href = url;
    download.setAttribute("download", url.split("/").pop());
    result.hidden = false;
    showMessage(message, _("视频生成成功"), "ok");
  } catch (error) {
    ended = !error.unfinished; // lost track of a render that may still run: it can still be cancelled
    throw error;
  } finally {
    if (ended) {
      currentTask = null;
      cancel.hidden = true;
    }
  }
}

cancelButton(cancel, () => currentTask, message);

// A reload loses the render the page followed: take up the newest one still queued or running.
async function resume() {
  const item = await taskToResume("video_generation", message);
  if (!item || button.disabled) return; // none, or the user has started another meanwhile
  showRequest(item.parameters || {});
  whileBusy(button, message, async () => {
    result.hidden = true;
    progress.reset(_("排队中"));
    showMessage(message, _("继续跟踪未完成的视频生成"), "info");
    await follow({ task_id: item.task_id });
  });
}

// The form as the followed render was asked for: its text, engine, avatar and voice.
function showRequest(parameters) {
  document.getElementById("text").value = parameters.target_text || "";
  if (parameters.model_name) engine.value = parameters.model_name;
  wantedAvatar = parameters.avatar_id || parameters.model_param || wantedAvatar;
  wantedVoice = parameters.ref_audio_id || null;
  showAvatars();
  if ([...voice.options].some((option) => option.value === wantedVoice)) voice.value = wantedVoice;
}

loadChoices();
resume();
