import {
  _, ProgressView, api, deleteButton, fileProblem, fillSelect, followAnswer, loadVoices, showMessage, taskToResume, upload,
  voiceOptions, whileBusy,
} from "/static/site/api.js";
import { Recorder } from "/static/site/recorder.js";

const cloneForm = document.getElementById("clone-form");
const referenceFile = document.getElementById("reference-file");
const recordButton = document.getElementById("record");
const recordTime = document.getElementById("record-time");
const recordingPlayer = document.getElementById("recording");
const cloneButton = document.getElementById("clone");
const cancelUpload = document.getElementById("cancel-clone-upload");
const cloneMessage = document.getElementById("clone-message");
const cloneProgress = new ProgressView(document.getElementById("clone-progress"));
const speakForm = document.getElementById("speak-form");
const speakVoice = document.getElementById("speak-voice");
const speakButton = document.getElementById("speak");
const speakMessage = document.getElementById("speak-message");
const voicesMessage = document.getElementById("voices-message");
const speakProgress = new ProgressView(document.getElementById("speak-progress"));
const speech = document.getElementById("speech");
const voiceRows = document.querySelector("#voices tbody");
const recorder = new Recorder();
let recording = null;
let timer = null;
let currentUpload = null;

function source() {
  return cloneForm.querySelector('input[name="source"]:checked').value;
}

function useSource(value) {
  cloneForm.querySelector(`input[name="source"][value="${value}"]`).checked = true;
}

// Choosing a file after recording means "clone this file".
referenceFile.addEventListener("change", () => {
  if (referenceFile.files.length) useSource("file");
});

async function refreshVoices() {
  try {
    const voices = await loadVoices();
    fillSelect(speakVoice, voiceOptions(voices), _("还没有克隆好的声音"));
    voiceRows.replaceChildren(...voices.map((voice) => {
      const row = document.createElement("tr");
      for (const value of [voice.id, voice.name, voice.engine]) row.insertCell().textContent = value;
      const player = row.insertCell();
      if (voice.reference_audio && voice.reference_audio !== "unknown") {
        const audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = voice.reference_audio;
        player.append(audio);
      }
      row.insertCell().textContent = voice.created_at;
      row.insertCell().append(
        deleteButton(`/api/cloned-audios/${encodeURIComponent(voice.id)}`, voice.name || voice.id, voicesMessage,
                     refreshVoices));
      return row;
    }));
  } catch (error) {
    showMessage(voicesMessage, error.message, "error");
  }
}

recordButton.addEventListener("click", async () => {
  if (recorder.recording) {
    clearInterval(timer);
    recording = await recorder.stop();
    recordButton.textContent = _("重新录音");
    recordingPlayer.src = URL.createObjectURL(recording);
    recordingPlayer.hidden = false;
    recordTime.textContent = `${_("已录制")} ${(recording.size / 1024).toFixed(0)} KB`;
    return;
  }
  try {
    await recorder.start();
  } catch (error) {
    showMessage(cloneMessage, error.message, "error");
    return;
  }
  // The new take replaces the last one, which must not be cloned in its place.
  recording = null;
  recordingPlayer.hidden = true;
  useSource("record");
  recordButton.textContent = _("停止录音");
  timer = setInterval(() => { recordTime.textContent = `${recorder.seconds().toFixed(1)} s`; }, 200);
});

cloneForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (recorder.recording) {
    showMessage(cloneMessage, _("请先停止录音"), "error");
    return;
  }
  const data = new FormData(cloneForm);
  data.delete("source");
  const reference = source() === "file" ? referenceFile.files[0] : recording;
  if (!reference) {
    showMessage(cloneMessage, source() === "file" ? _("请选择参考音频") : _("请先录音"), "error");
    return;
  }
  const problem = fileProblem(referenceFile, reference);
  if (problem) {
    showMessage(cloneMessage, problem, "error");
    return;
  }
  data.set("original_audio_path", reference, reference.name);
  data.set("async", "1");
  whileBusy(cloneButton, cloneMessage, async () => {
    showMessage(cloneMessage, "");
    cloneProgress.reset(_("上传中…"));
    const answer = await uploadReference(data);
    await followClone(answer, data.get("audio_id"));
  }, cloneProgress);
});

async function followClone(answer, audioId) {
  await followAnswer(answer, (task) => cloneProgress.show(task), {
    onRetry: (error) => cloneProgress.retrying(error),
  });
  cloneProgress.set(100);
  showMessage(cloneMessage, `${_("声音克隆成功")}: ${audioId}`, "ok");
  await refreshVoices();
  speakVoice.value = audioId;
}

// Upload the reference with the cancel button shown until the whole body is sent.
async function uploadReference(data) {
  cancelUpload.hidden = false;
  currentUpload = upload("/audio_clone", data, (percent) => {
    if (percent >= 100) cancelUpload.hidden = true; // the server is acting on it: nothing left to cancel
    cloneProgress.set(percent, percent < 100 ? _("上传中…") : _("上传完成，服务器检查音频中…"));
  });
  try {
    return await currentUpload.promise;
  } catch (error) {
    if (error.aborted) cloneProgress.set(0, _("上传已取消"));
    throw error;
  } finally {
    currentUpload = null;
    cancelUpload.hidden = true;
  }
}

cancelUpload.addEventListener("click", () => currentUpload && currentUpload.abort());

speakForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(speakForm);
  if (!data.get("audio_id")) {
    showMessage(speakMessage, _("请先克隆一个声音"), "error");
    return;
  }
  if (!String(data.get("gen_audio_id") || "").trim()) data.set("gen_audio_id", `gen_${Date.now()}`);
  whileBusy(speakButton, speakMessage, async () => {
    showMessage(speakMessage, "");
    speech.hidden = true;
    speakProgress.reset(_("提交中…"));
    data.set("async", "1");
    await followSpeech(await api("/audio_clone", { method: "POST", body: data }));
  }, speakProgress);
});

async function followSpeech(answer) {
  const task = await followAnswer(answer, (t) => speakProgress.show(t), {
    onRetry: (error) => speakProgress.retrying(error),
  });
  speakProgress.set(100);
  speech.src = `${task.result.cloned_audio_path}?t=${Date.now()}`;
  speech.hidden = false;
  showMessage(speakMessage, _("音频生成成功"), "ok");
}

// A reload loses the clone or speech the page followed: take up the newest one still queued or
// running (both are audio_clone jobs; their mode tells which part of the page shows it).
async function resume() {
  const item = await taskToResume("audio_clone", cloneMessage);
  if (!item) return;
  const parameters = item.parameters || {};
  const cloning = parameters.mode !== "generate";
  const button = cloning ? cloneButton : speakButton;
  if (button.disabled) return; // the user has started another meanwhile
  const [message, progress] = cloning ? [cloneMessage, cloneProgress] : [speakMessage, speakProgress];
  whileBusy(button, message, async () => {
    progress.reset(_("排队中"));
    showMessage(message, cloning ? _("继续跟踪未完成的声音克隆") : _("继续跟踪未完成的语音合成"), "info");
    const answer = { task_id: item.task_id };
    await (cloning ? followClone(answer, parameters.audio_id) : followSpeech(answer));
  });
}

refreshVoices();
resume();
