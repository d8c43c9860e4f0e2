import {
  _, ProgressView, avatarOptions, cacheBusted, fillSelect, loadAvatars, loadVoices, runJob, showMessage,
  voiceOptions, whileBusy,
} from "/static/site/api.js";

const form = document.getElementById("generate-form");
const engine = document.getElementById("engine");
const avatar = document.getElementById("avatar");
const voice = document.getElementById("voice");
const button = document.getElementById("generate");
const message = document.getElementById("generate-message");
const progress = new ProgressView(document.getElementById("generate-progress"));
const result = document.getElementById("result");
const video = document.getElementById("video");
const download = document.getElementById("download");
const wantedAvatar = new URLSearchParams(location.search).get("avatar");
let avatars = [];

function showAvatars() {
  fillSelect(avatar, avatarOptions(avatars, engine.value), _("该引擎还没有训练好的模型"));
  if (avatars.some((a) => a.model_param === wantedAvatar && a.engine === engine.value)) avatar.value = wantedAvatar;
}

async function loadChoices() {
  try {
    avatars = await loadAvatars();
    const wanted = avatars.find((a) => a.model_param === wantedAvatar);
    if (wanted) engine.value = wanted.engine;
    showAvatars();
    fillSelect(voice, voiceOptions(await loadVoices()), _("还没有克隆好的声音"));
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
    const task = await runJob("/video_generation", new FormData(form), (t) => progress.show(t), {
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
  });
});

loadChoices();
