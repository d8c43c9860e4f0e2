import { _, api, showMessage } from "/static/site/api.js";

const metrics = document.getElementById("metrics");
const gpus = document.getElementById("gpus");
const noGpu = document.getElementById("no-gpu");
const template = document.getElementById("gpu-template");
const updated = document.getElementById("updated");
const message = document.getElementById("status-message");
const pollMs = (Number(metrics.dataset.pollSeconds) || 3) * 1000;
const keep = Math.max(10, Math.round(((Number(metrics.dataset.chartMinutes) || 5) * 60000) / pollMs));
const series = new Map(); // card -> [{t, v}] of the last `keep` readings

function gib(bytes) {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

// A line chart of percentages (0–100) on a canvas sized to its CSS box; a null point (not
// reported) leaves a gap.
function draw(canvas, points, color) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = "#e3e7ee";
  ctx.lineWidth = 1;
  for (const level of [0, 50, 100]) {
    const y = height - (level / 100) * (height - 2) - 1;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(width, y);
    ctx.stroke();
  }
  const step = width / (keep - 1);
  const start = width - step * (points.length - 1);
  let run = [];
  points.forEach((value, index) => {
    if (value !== null) run.push({ x: start + index * step, value });
    if (value === null || index === points.length - 1) {
      drawRun(ctx, run, height, color);
      run = [];
    }
  });
}

function drawRun(ctx, run, height, color) {
  if (run.length < 2) return;
  ctx.beginPath();
  run.forEach(({ x, value }, index) => {
    const y = height - (Math.min(100, Math.max(0, value)) / 100) * (height - 2) - 1;
    if (index === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.lineTo(run[run.length - 1].x, height);
  ctx.lineTo(run[0].x, height);
  ctx.closePath();
  ctx.globalAlpha = 0.12;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
}

// `percent` is null when the machine does not report it.
function update(card, percent, detail, color) {
  card.querySelector("[data-value]").textContent = percent === null ? _("未报告") : `${percent.toFixed(1)}%`;
  card.querySelector("[data-detail]").textContent = detail;
  const points = series.get(card) || [];
  points.push(percent);
  if (points.length > keep) points.shift();
  series.set(card, points);
  draw(card.querySelector("canvas"), points, color);
}

function gpuCard(position, index, name) {
  let card = gpus.children[position];
  if (!card) {
    card = template.content.firstElementChild.cloneNode(true);
    gpus.append(card);
  }
  card.querySelector("[data-name]").textContent = `GPU ${index} · ${name}`;
  return card;
}

async function refresh() {
  try {
    const status = await api("/api/status");
    const card = (name) => metrics.querySelector(`[data-metric="${name}"]`);
    update(card("cpu"), status.cpu_percent, "", "#2f6fed");
    update(card("memory"), status.memory_percent, `${gib(status.memory_used)} / ${gib(status.memory_total)}`, "#1c8a4a");
    update(card("disk"), status.disk_percent, _("媒体目录所在磁盘"), "#b7791f");
    noGpu.hidden = status.gpus.length > 0;
    status.gpus.forEach((gpu, position) => {
      // A figure the GPU does not report comes as 0 and is named in `unreported` (MIG: load, temperature).
      const reported = (field) => !(gpu.unreported || []).includes(field);
      const memory = gpu.memory_total ? `${gib(gpu.memory_used)} / ${gib(gpu.memory_total)}` : _("未报告");
      const temperature = reported("temperature") ? `${gpu.temperature} °C` : `${_("温度")} ${_("未报告")}`;
      update(gpuCard(position, gpu.index ?? position, gpu.name), reported("load") ? gpu.load : null,
             `${_("显存")} ${memory} · ${temperature}`, "#8e44ad");
    });
    while (gpus.children.length > status.gpus.length) gpus.lastElementChild.remove();
    updated.textContent = `${_("更新于")} ${new Date().toLocaleTimeString()}`;
    showMessage(message, "");
  } catch (error) {
    showMessage(message, error.message, "error");
  }
  setTimeout(refresh, pollMs);
}

refresh();
