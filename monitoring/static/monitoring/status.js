import { _, api, showMessage } from "/static/site/api.js";

const metrics = document.getElementById("metrics");
const gpus = document.getElementById("gpus");
const noGpu = document.getElementById("no-gpu");
const template = document.getElementById("gpu-template");
const updated = document.getElementById("updated");
const message = document.getElementById("status-message");
const pollMs = (Number(metrics.dataset.pollSeconds) || 3) * 1000;
const chartMinutes = Number(metrics.dataset.chartMinutes) || 5;
const keep = Math.max(10, Math.round((chartMinutes * 60000) / pollMs));
const series = new Map(); // card -> [{t, v}] of the last `keep` readings

function gib(bytes) {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

// A line chart of percentages (0–100) on a canvas sized to its CSS box, with the levels on the
// left and the time span below; a null point (not reported) leaves a gap.
const AXIS = { left: 34, bottom: 14, font: "10px system-ui, sans-serif", color: "#8a93a3" };

function draw(canvas, points, color) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * ratio;
  canvas.height = canvas.clientHeight * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  const plot = { left: AXIS.left, width: canvas.clientWidth - AXIS.left, height: canvas.clientHeight - AXIS.bottom };
  ctx.font = AXIS.font;
  ctx.fillStyle = AXIS.color;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#e3e7ee";
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  for (const level of [0, 50, 100]) {
    const y = levelY(level, plot);
    ctx.beginPath();
    ctx.moveTo(plot.left, y);
    ctx.lineTo(plot.left + plot.width, y);
    ctx.stroke();
    ctx.fillText(`${level}%`, plot.left - 4, Math.min(Math.max(y, 5), plot.height - 5));
  }
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  ctx.fillText(`${chartMinutes} ${_("分钟前")}`, plot.left, canvas.clientHeight);
  ctx.textAlign = "right";
  ctx.fillText(_("现在"), plot.left + plot.width, canvas.clientHeight);

  const step = plot.width / (keep - 1);
  const start = plot.left + plot.width - step * (points.length - 1);
  let run = [];
  points.forEach((value, index) => {
    if (value !== null) run.push({ x: start + index * step, value });
    if (value === null || index === points.length - 1) {
      drawRun(ctx, run, plot, color);
      run = [];
    }
  });
}

function levelY(level, plot) {
  return plot.height - (Math.min(100, Math.max(0, level)) / 100) * (plot.height - 2) - 1;
}

function drawRun(ctx, run, plot, color) {
  if (run.length < 2) return;
  ctx.beginPath();
  run.forEach(({ x, value }, index) => {
    if (index === 0) ctx.moveTo(x, levelY(value, plot));
    else ctx.lineTo(x, levelY(value, plot));
  });
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.lineTo(run[run.length - 1].x, plot.height);
  ctx.lineTo(run[0].x, plot.height);
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
    update(card("disk"), status.disk_percent, `${gib(status.disk_used)} / ${gib(status.disk_total)} · ${_("媒体目录所在磁盘")}`,
           "#b7791f");
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
