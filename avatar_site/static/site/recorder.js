// Microphone recording with MediaRecorder; the server accepts webm, ogg and wav.
import { _ } from "/static/site/api.js";

const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/ogg"];

export class Recorder {
  constructor() {
    this.stream = null;
    this.recorder = null;
    this.chunks = [];
    this.startedAt = 0;
  }

  get recording() {
    return this.recorder !== null && this.recorder.state === "recording";
  }

  async start() {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      throw new Error(_("此浏览器不支持录音（需要 HTTPS 或 localhost）"));
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      throw new Error(`${_("无法使用麦克风")}: ${error.message}`);
    }
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    this.chunks = [];
    this.recorder.ondataavailable = (event) => event.data.size && this.chunks.push(event.data);
    this.recorder.start();
    this.startedAt = performance.now();
  }

  seconds() {
    return this.recording ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  // Resolves with a File named after its container, ready for FormData.
  stop() {
    return new Promise((resolve) => {
      if (!this.recorder) return resolve(null);
      const recorder = this.recorder;
      recorder.onstop = () => {
        this.stream.getTracks().forEach((track) => track.stop());
        this.recorder = null;
        const type = recorder.mimeType || "audio/webm";
        const extension = type.includes("ogg") ? "ogg" : "webm";
        resolve(new File(this.chunks, `recording.${extension}`, { type }));
      };
      recorder.stop();
    });
  }
}
