"""Train the seed tutorial's CNNModel on an .npz of images (x_train, y_train, x_test, y_test)
and save its state_dict as model.pth, as a PyTorch user would; cnnanim then imports it with
``cnnanim weights import-torch model.pth -o my-model.safetensors``.

Plain PyTorch, no cnnanim. Inputs are the pixels / 255 (torchvision's ToTensor), the
preprocessing cnnanim applies to a photo. Usage::

    python train_cnnmodel.py mnist.npz --epochs 2      # writes model.pth
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch import nn


class CNNModel(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int):
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(in_channels=input_shape, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(in_channels=hidden_units, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=hidden_units*7*7, out_features=output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.block_2(self.block_1(x)))


def tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 28, 28[, 1]) uint8 -> (N, 1, 28, 28) float32 in [0, 1], as ToTensor does."""
    x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("npz")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hidden-units", type=int, default=10)
    ap.add_argument("--out", default="model.pth")
    args = ap.parse_args()
    torch.manual_seed(0)
    data = np.load(args.npz)
    x, y = tensors(data["x_train"], data["y_train"])
    xt, yt = tensors(data["x_test"], data["y_test"])
    model = CNNModel(input_shape=1, hidden_units=args.hidden_units, output_shape=10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for i in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            loss = loss_fn(model(x[i]), y[i])
            loss.backward()
            opt.step()
        model.eval()
        with torch.inference_mode():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {acc:.1%}")
    torch.save(model.state_dict(), args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
