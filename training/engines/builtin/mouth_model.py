"""Audio → mouth shape: a PCA code of the lip and jaw landmarks, predicted by a small 1-D CNN."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from training.engines.builtin.features import N_MELS


@dataclass
class MouthBasis:
    """PCA of aligned mouth landmarks: ``points = mean + code @ components`` (flattened x, y)."""

    mean: np.ndarray
    components: np.ndarray
    scale: float  # the first component's spread: codes are divided by it so losses are comparable

    @classmethod
    def fit(cls, points: np.ndarray, size: int) -> MouthBasis:
        flat = points.reshape(len(points), -1).astype(np.float64)
        mean = flat.mean(0)
        _, singular, vt = np.linalg.svd(flat - mean, full_matrices=False)
        size = min(size, len(vt))
        scale = float(singular[0] / np.sqrt(max(len(flat) - 1, 1))) or 1.0
        return cls(mean.astype(np.float32), vt[:size].astype(np.float32), scale)

    def encode(self, points: np.ndarray) -> np.ndarray:
        flat = points.reshape(len(points), -1) - self.mean
        return (flat @ self.components.T / self.scale).astype(np.float32)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        flat = self.mean + (codes * self.scale) @ self.components
        return flat.reshape(len(codes), -1, 2)

    def to_dict(self) -> dict:
        return {"mean": self.mean, "components": self.components, "scale": np.float32(self.scale)}

    @classmethod
    def from_dict(cls, data) -> MouthBasis:
        return cls(np.asarray(data["mean"]), np.asarray(data["components"]), float(data["scale"]))


class MouthNet(nn.Module):
    """Log-mel window (n_mels × window) → mouth code; strided 1-D convolutions over time."""

    def __init__(self, codes: int, hidden: int = 64, window: int = 32):
        super().__init__()
        self.config = {"codes": codes, "hidden": hidden, "window": window}
        self.body = nn.Sequential(
            nn.Conv1d(N_MELS, hidden, 3, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, stride=2, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, stride=2, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Dropout(0.2),
        )
        self.head = nn.Linear(hidden * ((window + 3) // 4), codes)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(windows).flatten(1))


def train_mouth_net(
    windows: np.ndarray,
    codes: np.ndarray,
    train_index: np.ndarray,
    held_index: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    hidden: int,
    on_epoch: Callable[[int, float, float], None],
    seed: int = 0,
) -> tuple[MouthNet, list[dict]]:
    """Fit the network; ``on_epoch(epoch, train_loss, held_loss)`` reports (and may raise to cancel)."""
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    net = MouthNet(codes.shape[1], hidden, windows.shape[2])
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    x_all, y_all = torch.from_numpy(windows), torch.from_numpy(codes)
    # The leading components carry most of the motion (opening, width): weight the loss by their variance.
    weights = torch.from_numpy(np.maximum(codes[train_index].var(0), 1e-3)).float()
    weights = weights / weights.sum()
    history = []
    for epoch in range(epochs):
        net.train()
        order = generator.permutation(train_index)
        total, count = 0.0, 0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            if len(batch) < 2:
                continue
            x = x_all[batch]
            # Small random gain (a shift of log energies) and noise, so other voices and levels still fit.
            x = x + 0.3 * torch.randn(len(batch), 1, 1) + 0.05 * torch.randn_like(x)
            loss = (((net(x) - y_all[batch]) ** 2) * weights).sum(1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        train_loss = total / max(count, 1)
        held_loss = evaluate(net, windows[held_index], codes[held_index], weights) if len(held_index) else float("nan")
        history.append({"epoch": epoch + 1, "train": round(train_loss, 5), "held_out": round(held_loss, 5)})
        on_epoch(epoch + 1, train_loss, held_loss)
    net.eval()
    return net, history


def evaluate(net: MouthNet, windows: np.ndarray, codes: np.ndarray, weights: torch.Tensor) -> float:
    predicted = torch.from_numpy(predict(net, windows))
    return float(((((predicted - torch.from_numpy(codes)) ** 2) * weights).sum(1)).mean())


def predict(net: MouthNet, windows: np.ndarray) -> np.ndarray:
    net.eval()
    with torch.inference_mode():
        out = [net(torch.from_numpy(windows[i:i + 512])) for i in range(0, len(windows), 512)]
    return torch.cat(out).numpy() if out else np.zeros((0, net.config["codes"]), np.float32)


def save_net(net: MouthNet, path) -> None:
    torch.save({"config": net.config, "state": net.state_dict()}, path)


def load_net(path) -> MouthNet:
    data = torch.load(path, map_location="cpu", weights_only=True)
    net = MouthNet(**data["config"])
    net.load_state_dict(data["state"])
    net.eval()
    return net
