import {
  _, ProgressView, api, cancelButton, deleteButton, fileProblem, followAnswer, followEngineQueues, serverMessage,
  showMessage, statusLabel, taskToResume, upload,
} from "/static/site/api.js";

const form = document.getElementById("train-form");
followEngineQueues(document.getElementById("engine"), document.getElementById("gpu"));
const file = document.getElementById("ref-video");
const trainButton = document.getElementById("train");
const cancelUpload = document.getElementById("cancel-upload");
const uploadMessage = document.getElementById("upload-message");
const avatarsMessage = document.getElementById("avatars-message");
const uploadProgress = new ProgressView(document.getElementById("upload-progress"));
const training = document.getElementById("training");
const taskLabel = document.getElementById("task-id");
const trainProgress = new ProgressView(document.getElementById("train-progress"));
const cancelTask = document.getElementById("cancel-task");
const trainMessage = document.getElementById("train-message");
const useAvatar = document.getElementById("use-avatar");
const avatarRows = document.querySelector("#avatars tbody");
let currentUpload = null;
let currentTask = null;
let following = null; // AbortController of the poller that follows currentTask

async function listAvatars() {
  try {
    const { avatars } = await api("/api/avatars?all=1");
    avatarRows.replaceChildren(...avatars.map((avatar) => {
      const row = document.createElement("tr");
      for (const value of [avatar.id, avatar.name, avatar.engine, null, avatar.epochs, avatar.gpu, avatar.created_at]) {
        const cell = row.insertCell();
        if (value === null) {
          const badge = document.createElement("span");
          badge.className = `badge ${avatar.status}`;
          badge.textContent = statusLabel(avatar.status);
          cell.append(badge);
        } else {
          cell.textContent = value;
        }
      }
      row.insertCell().append(
        deleteButton(`/api/avatars/${encodeURIComponent(avatar.id)}`, avatar.name ? `${avatar.name} (${avatar.id})` : avatar.id,
                     avatarsMessage, listAvatars));
      return row;
    }));
  } catch (error) {
    showMessage(avatarsMessage, error.message, "error");
  }
}

function finishUpload() {
  currentUpload = null;
  trainButton.disabled = false;
  cancelUpload.hidden = true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!file.files.length) {
    showMessage(uploadMessage, _("请选择参考视频"), "error");
    return;
  }
  const problem = fileProblem(file, file.files[0]);
  if (problem) {
    showMessage(uploadMessage, problem, "error");
    return;
  }
  trainButton.disabled = true;
  cancelUpload.hidden = false;
  showMessage(uploadMessage, "");
  uploadProgress.reset(_("上传中…"));
  currentUpload = upload("/model_training", new FormData(form), showUploadProgress);
  let answer;
  try {
    answer = await currentUpload.promise;
  } catch (error) {
    showMessage(uploadMessage, error.message, error.aborted ? "info" : "error");
    if (error.aborted) uploadProgress.set(0, _("上传已取消"));
    uploadProgress.refused(error);
    finishUpload();
    return;
  }
  finishUpload();
  uploadProgress.set(100, _("上传完成"));
  showMessage(uploadMessage, serverMessage(answer.message), "ok");
  follow(answer);
});

function showUploadProgress(percent) {
  if (percent < 100) {
    uploadProgress.set(percent, _("上传中…"));
    return;
  }
  // The server has the whole video and is creating the task: aborting now would only lose the
  // task's id. Once it appears below, the training itself can be cancelled.
  cancelUpload.hidden = true;
  uploadProgress.set(percent, _("上传完成，服务器检查视频中…"));
}

cancelUpload.addEventListener("click", () => currentUpload && currentUpload.abort());

// Show and follow a submitted training; a newer one takes the place of the one followed so far
// (which runs on, listed under 我的模型).
async function follow(answer) {
  if (following) following.abort();
  const controller = new AbortController();
  following = controller;
  training.hidden = false;
  useAvatar.hidden = true;
  currentTask = answer.task_id;
  taskLabel.textContent = currentTask;
  cancelTask.disabled = false;
  cancelTask.hidden = false;
  showMessage(trainMessage, "");
  trainProgress.reset(_("排队中"));
  listAvatars(); // the new avatar, as training
  let taskEnded = true;
  try {
    await followAnswer(answer, (task) => trainProgress.show(task), {
      signal: controller.signal, onRetry: (error) => trainProgress.retrying(error),
    });
    if (following !== controller) return;
    showMessage(trainMessage, `${_("训练完成")}: ${answer.avatar_id}`, "ok");
    useAvatar.href = `/?avatar=${encodeURIComponent(answer.avatar_id)}`;
    useAvatar.hidden = false;
  } catch (error) {
    if (following !== controller) return;
    showMessage(trainMessage, error.message, error.cancelled ? "info" : "error");
    taskEnded = !error.unfinished;
  }
  // Lost track of a task that may still run: it can still be cancelled. One that ended has
  // nothing to cancel: the button goes.
  if (taskEnded) cancelTask.disabled = cancelTask.hidden = true;
  listAvatars();
}

cancelButton(cancelTask, () => currentTask, trainMessage);

// A reload loses the task the page followed: take up the newest training still queued or running.
async function resume() {
  const item = await taskToResume("model_training", uploadMessage);
  if (!item || following) return; // none, or the user has started another meanwhile
  follow({ task_id: item.task_id, avatar_id: item.parameters.avatar_id });
  showMessage(trainMessage, _("继续跟踪未完成的训练"), "info");
}

listAvatars();
resume();
