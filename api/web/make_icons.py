"""Draw the web app's PNG icons (run at commit time; the PNGs are committed next to it).

    .venv/bin/python api/web/make_icons.py      # writes api/web/static/icons/*.png

The glyph is three shelves with a green, an amber and a red product on them (ok, low, out) on
the app's teal. ``any`` icons are a rounded square on transparent; ``maskable`` icons fill the
whole square and keep the glyph inside the central 80 % safe zone, as the W3C manifest spec
asks. Shapes are drawn at 4x and box-filtered down for anti-aliasing; the PNG writer is zlib.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

ICONS = Path(__file__).resolve().parent / "static" / "icons"
SUPERSAMPLE = 4
TEAL = (15, 118, 110, 255)
WHITE = (255, 255, 255, 255)
PRODUCTS = ((34, 197, 94, 255), (245, 158, 11, 255), (239, 68, 68, 255))
Image = npt.NDArray[np.float64]


def png_bytes(rgba: npt.NDArray[np.uint8]) -> bytes:
    """An 8-bit RGBA PNG of an (h, w, 4) array (filter 0 on every row)."""
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _rect(img: Image, box: tuple[float, float, float, float], color: tuple[int, ...]) -> None:
    """Fill the box (x0, y0, x1, y1), in fractions of the side, with ``color``."""
    side = img.shape[0]
    x0, y0, x1, y1 = (round(v * side) for v in box)
    img[y0:y1, x0:x1] = color


def _rounded_mask(side: int, radius_frac: float) -> npt.NDArray[np.bool_]:
    r = radius_frac * side
    ys, xs = np.mgrid[0:side, 0:side] + 0.5
    dx = np.maximum(np.maximum(r - xs, xs - (side - r)), 0)
    dy = np.maximum(np.maximum(r - ys, ys - (side - r)), 0)
    mask: npt.NDArray[np.bool_] = dx * dx + dy * dy <= r * r
    return mask


def draw(size_px: int, *, maskable: bool) -> npt.NDArray[np.uint8]:
    side = size_px * SUPERSAMPLE
    img: Image = np.zeros((side, side, 4))
    if maskable:
        img[:, :] = TEAL
    else:
        img[_rounded_mask(side, 0.22)] = TEAL
    inset, scale = (0.1, 0.8) if maskable else (0.0, 1.0)

    def place(box: tuple[float, float, float, float], color: tuple[int, ...]) -> None:
        _rect(img, tuple(inset + v * scale for v in box), color)  # type: ignore[arg-type]

    for row, color in enumerate(PRODUCTS):
        shelf_y = 0.36 + row * 0.22
        place((0.2, shelf_y, 0.8, shelf_y + 0.045), WHITE)
        width = 0.2 - row * 0.05
        place((0.26, shelf_y - 0.13, 0.26 + width, shelf_y - 0.01), color)
        place((0.56, shelf_y - 0.13, 0.56 + 0.12, shelf_y - 0.01), WHITE)
    small = img.reshape(size_px, SUPERSAMPLE, size_px, SUPERSAMPLE, 4).mean(axis=(1, 3))
    alpha = small[:, :, 3:4]
    # transparent pixels are black, so the mean is premultiplied: divide the alpha back out
    small[:, :, :3] = np.where(alpha > 0, small[:, :, :3] * 255 / np.maximum(alpha, 1e-9), 0)
    out: npt.NDArray[np.uint8] = np.clip(np.rint(small), 0, 255).astype(np.uint8)
    return out


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size_px in (192, 512):
        (ICONS / f"icon-{size_px}.png").write_bytes(png_bytes(draw(size_px, maskable=False)))
        (ICONS / f"maskable-{size_px}.png").write_bytes(png_bytes(draw(size_px, maskable=True)))
    (ICONS / "apple-touch-icon.png").write_bytes(png_bytes(draw(180, maskable=True)))


if __name__ == "__main__":
    main()
