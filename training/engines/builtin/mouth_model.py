"""Audio → mouth shape: a PCA code of the lip landmarks, predicted by a regularised linear map (or a small 1-D CNN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from training.engines.builtin.faces import LIPS, LOWER_INNER, MOUTH, UPPER_INNER
from training.engines.builtin.features import N_MELS

LIP_INDEX = [MOUTH.index(point) for point in LIPS]


def lip_shapes(mouth_points: np.ndarray) -> np.ndarray:
    """The lip points of MOUTH-ordered points, each frame centred on its own mean.

    This is what the codes describe (and what LMD measures): the mouth's shape and size, not
    where it sits. The jaw line moves with nods as much as with speech and audio cannot predict it.
    """
    lips = mouth_points[..., LIP_INDEX, :]
    return lips - lips.mean(axis=-2, keepdims=True)


def lip_opening(lips: np.ndarray) -> np.ndarray:
    """Inner-lip gap of LIPS-ordered points."""
    upper, lower = LIPS.index(UPPER_INNER), LIPS.index(LOWER_INNER)
    return np.linalg.norm(lips[..., lower, :] - lips[..., upper, :], axis=-1)


@dataclass
class MouthBasis:
    """PCA of centred lip shapes (``lip_shapes``): ``lips = mean + code @ components`` (flattened x, y).

    ``fit`` and ``encode`` take MOUTH-ordered points; ``decode`` gives centred LIPS-ordered points.
    """

    mean: np.ndarray
    components: np.ndarray
    scale: float  # the first component's spread: codes are divided by it so losses are comparable

    @classmethod
    def fit(cls, points: np.ndarray, size: int) -> MouthBasis:
        flat = lip_shapes(points).reshape(len(points), -1).astype(np.float64)
        mean = flat.mean(0)
        _, singular, vt = np.linalg.svd(flat - mean, full_matrices=False)
        size = min(size, len(vt))
        scale = float(singular[0] / np.sqrt(max(len(flat) - 1, 1))) or 1.0
        return cls(mean.astype(np.float32), vt[:size].astype(np.float32), scale)

    def encode(self, points: np.ndarray) -> np.ndarray:
        flat = lip_shapes(points).reshape(len(points), -1) - self.mean
        return (flat @ self.components.T / self.scale).astype(np.float32)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        flat = self.mean + (codes * self.scale) @ self.components
        return flat.reshape(len(codes), -1, 2)

    def to_dict(self) -> dict:
        return {"mean": self.mean, "components": self.components, "scale": np.float32(self.scale)}

    @classmethod
    def from_dict(cls, data) -> MouthBasis:
        return cls(np.asarray(data["mean"]), np.asarray(data["components"]), float(data["scale"]))


class MouthLinear(nn.Module):
    """Log-mel window (n_mels × window) → mouth code: one linear map of the standardised, time-pooled window.

    With ~5 s of training speech a strongly regularised linear map generalises better than the CNN
    (measured by the bench on held-out footage: lower LMD, better speech/silence separation).
    """

    POOL = 2  # mel frames averaged per input step (20 ms): halves the weights, loses nothing audible in lips

    def __init__(self, codes: int, window: int = 16, **_):
        super().__init__()
        self.config = {"kind": "linear", "codes": codes, "window": window}
        inputs = N_MELS * (window // self.POOL)
        self.register_buffer("mean", torch.zeros(inputs))
        self.register_buffer("spread", torch.ones(inputs))
        self.head = nn.Linear(inputs, codes)

    def flat(self, windows: torch.Tensor) -> torch.Tensor:
        steps = windows.shape[2] // self.POOL
        pooled = windows[:, :, :steps * self.POOL].reshape(len(windows), N_MELS, steps, self.POOL).mean(-1)
        return pooled.flatten(1)

    def standardise_on(self, windows: torch.Tensor) -> None:
        flat = self.flat(windows)
        self.mean.copy_(flat.mean(0))
        self.spread.copy_(flat.std(0) + 1e-3)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.head((self.flat(windows) - self.mean) / self.spread)

    def penalty(self) -> torch.Tensor:
        return (self.head.weight ** 2).sum()


class MouthNet(nn.Module):
    """Log-mel window (n_mels × window) → mouth code; strided 1-D convolutions over time."""

    def __init__(self, codes: int, hidden: int = 64, window: int = 32, **_):
        super().__init__()
        self.config = {"kind": "cnn", "codes": codes, "hidden": hidden, "window": window}
        self.body = nn.Sequential(
            nn.Conv1d(N_MELS, hidden, 3, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, stride=2, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, stride=2, padding=1), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Dropout(0.2),
        )
        self.head = nn.Linear(hidden * ((window + 3) // 4), codes)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(windows).flatten(1))

    def penalty(self) -> torch.Tensor:
        return torch.zeros(())


def make_net(kind: str, codes: int, hidden: int, window: int) -> nn.Module:
    if kind == "cnn":
        return MouthNet(codes, hidden, window)
    return MouthLinear(codes, window)


RIDGE_FRAMES = 100  # the training length (frames) at which ``ridge`` applies as given


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
    kind: str = "linear",
    ridge: float = 30.0,
) -> tuple[nn.Module, list[dict]]:
    """Fit the model; ``on_epoch(epoch, train_loss, held_loss)`` reports (and may raise to cancel).

    The linear model is a ridge regression (weights of standardised inputs, so ``ridge`` is scale-free),
    solved by gradient steps so that epochs, progress and cancelling work as for the CNN: it minimises
    mean squared code error + ``ridge`` × (100 / training frames) × squared weights. ``ridge`` is the
    penalty for 4 s of video; like a fixed prior it weighs less as more video is given. The epoch with
    the lowest held-out loss is kept (with no held-out frames, the last).
    """
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    net = make_net(kind, codes.shape[1], hidden, windows.shape[2])
    x_all, y_all = torch.from_numpy(windows), torch.from_numpy(codes)
    if kind == "cnn":
        optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
        # The leading components carry most of the motion (opening, width): weight the loss by their variance.
        weights = torch.from_numpy(np.maximum(codes[train_index].var(0), 1e-3)).float()
        weights = weights / weights.sum()
        penalty = 0.0
    else:
        net.standardise_on(x_all[train_index])
        optimiser = torch.optim.Adam(net.parameters(), lr=lr * 5)
        weights = torch.ones(codes.shape[1]) / codes.shape[1]
        # Ridge on the mean code error: per code, the loss is mean error² + ridge·|w|².
        penalty = ridge * RIDGE_FRAMES / max(len(train_index), 1) / codes.shape[1]
    history, best = [], (float("inf"), None)
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
            if penalty:
                loss = loss + penalty * net.penalty()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        train_loss = total / max(count, 1)
        held_loss = evaluate(net, windows[held_index], codes[held_index], weights) if len(held_index) else float("nan")
        history.append({"epoch": epoch + 1, "train": round(train_loss, 5), "held_out": round(held_loss, 5)})
        if not held_loss >= best[0]:  # also true for nan (no held-out frames): keep the latest
            best = (held_loss, {k: v.clone() for k, v in net.state_dict().items()})
        on_epoch(epoch + 1, train_loss, held_loss)
    if best[1] is not None:
        net.load_state_dict(best[1])
    net.eval()
    return net, history


def evaluate(net: nn.Module, windows: np.ndarray, codes: np.ndarray, weights: torch.Tensor) -> float:
    predicted = torch.from_numpy(predict(net, windows))
    return float(((((predicted - torch.from_numpy(codes)) ** 2) * weights).sum(1)).mean())


def predict(net: nn.Module, windows: np.ndarray) -> np.ndarray:
    net.eval()
    with torch.inference_mode():
        out = [net(torch.from_numpy(windows[i:i + 512])) for i in range(0, len(windows), 512)]
    return torch.cat(out).numpy() if out else np.zeros((0, net.config["codes"]), np.float32)


def save_net(net: nn.Module, path) -> None:
    torch.save({"config": net.config, "state": net.state_dict()}, path)


def load_net(path) -> nn.Module:
    data = torch.load(path, map_location="cpu", weights_only=True)
    config = dict(data["config"])
    net = make_net(config.pop("kind", "cnn"), config["codes"], config.get("hidden", 64), config["window"])
    net.load_state_dict(data["state"])
    net.eval()
    return net
