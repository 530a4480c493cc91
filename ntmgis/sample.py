"""The sample commune: a simulated Xã Thanh Bình with known truth.

Every demo, test and benchmark uses it. :func:`make_sample` writes, deterministically for a
seed:

* the outline of a real Hà Tĩnh commune (from the 2009 administrative boundaries shipped in
  ``ntmgis/data/vn_admin_2009``) under a fictional name, split into hamlets (thôn);
* household parcels shaped like cadastral parcels (irregular quadrilaterals sharing edges,
  lined along lanes) in VN-2000 / 3-degree TM zone 105°30' (EPSG:9209), with cadastral
  attributes as a gCadas export carries them;
* the Step 2 garden survey as a commune officer types it (XLSX and CSV) with documented
  defects, and hamlet targets for the year;
* a year of Sentinel-2 L2A-like scenes (COG per band, STAC items) simulated from each
  parcel's true condition, with clouds and shadows marked in SCL;
* the truth, under ``truth/``, which the pipeline never reads.

All of it is simulated; only the commune outline is real.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from . import _progress
from ._progress import ProgressCallback, report
from .errors import InputError
from .i18n import register_all as _register_all

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue)
_register_all(
    {
        "error.sample.too_few_parcels": (
            "Xã mẫu cần ít nhất 200 thửa đất, không phải {n}: hãy chọn số thửa từ 200 trở lên.",
            "The sample commune needs at least 200 parcels, not {n}: ask for 200 or more.",
        ),
        "error.sample.too_few_dates": (
            "Xã mẫu cần ít nhất 12 ngày ảnh, không phải {n}: hãy chọn số ngày ảnh từ 12 trở lên.",
            "The sample commune needs at least 12 imagery dates, not {n}: ask for 12 or more.",
        ),
        "error.sample.bad_sensor": (
            "PSF ({psf}) và độ lệch ảnh ({misregistration} m) của cảm biến mô phỏng phải là "
            "số không âm: hãy chọn 0 (không có) hoặc một số dương, ví dụ 0,45 và 3.",
            "The simulated sensor's PSF ({psf}) and misregistration ({misregistration} m) "
            "must be numbers of zero or more: choose 0 (none) or a positive number, e.g. "
            "0.45 and 3.",
        ),
        "error.sample.followup_not_later": (
            "Đợt theo dõi ({followup}) phải sau đợt đầu ({year}): hãy chọn năm theo dõi muộn "
            "hơn, hoặc không ghi đợt theo dõi (--no-followup).",
            "The follow-up campaign ({followup}) must come after the baseline ({year}): choose "
            "a later follow-up year, or none (--no-followup).",
        ),
        "error.sample.no_room": (
            "{hamlet} chỉ đủ chỗ cho {room} trong {quota} thửa đất (hạt giống {seed}): hãy "
            "chọn ít thửa hơn hoặc một hạt giống khác.",
            "{hamlet} has room for {room} of its {quota} parcels (seed {seed}): ask for "
            "fewer parcels or another seed.",
        ),
        "error.sample.unknown_condition": (
            "Tình trạng vườn '{cond}' không có trong xã mẫu (có: {known}). Đây là lỗi của "
            "ntmgis: hãy báo cho nhóm phát triển.",
            "Garden condition '{cond}' is not one of the sample's ({known}). This is a bug "
            "in ntmgis: please report it.",
        ),
        "error.sample.no_config": (
            "Không có tệp cấu hình xã mẫu '{path}'. Hãy tạo xã mẫu bằng lệnh "
            "'ntmgis sample {layers}' (hoặc 'make sample').",
            "No sample commune config '{path}'. Write the sample with "
            "'ntmgis sample {layers}' (or 'make sample').",
        ),
        "error.sample.no_baseline": (
            "Đợt theo dõi {year} được so với kết quả đầu kỳ '{baseline}', nhưng tệp này "
            "chưa có: hãy chạy đợt đầu kỳ trước.",
            "The follow-up campaign {year} is measured against the baseline run "
            "'{baseline}', which does not exist yet: run the baseline first.",
        ),
    }
)


def _say(key: str, /, **fields) -> str:
    from .i18n import say

    return say(key, **fields)


class _NoRoomError(InputError):
    """A hamlet of the sample has no room for its parcels (the province tries a new seed)."""


__all__ = [
    "make_sample",
    "make_province",
    "sample_config",
    "SampleCommune",
    "sample_paths",
    "CONDITIONS",
    "GARDEN_CLASSES",
    "REALISTIC_SENSOR",
]

SAMPLE_CRS = "EPSG:9209"  # VN-2000 / 3-degree TM, central meridian 105°30' (Hà Tĩnh)
IMAGERY_CRS = "EPSG:32648"  # WGS 84 / UTM 48N, as Sentinel-2 tiles over Hà Tĩnh
SOURCE_COMMUNE_ID = 4050713  # Xã Đức La, Huyện Đức Thọ, Hà Tĩnh (2009 boundaries)
COMMUNE_NAME = "Xã Thanh Bình"
DISTRICT_NAME = "Huyện Đức Thọ"
PROVINCE_NAME = "Hà Tĩnh"
STEM = "thanh_binh"
HAMLET_NAMES = [
    "Thôn Đông Hòa",
    "Thôn Tân Lộc",
    "Thôn Trung Sơn",
    "Thôn Bắc Hà",
    "Thôn Yên Thịnh",
    "Thôn Phú Mỹ",
]

#: the five garden classes of the Step 2 survey (GUIDE.md), in survey spelling
GARDEN_CLASSES = {
    "vuon_mau": "Vườn mẫu",
    "dat_chuan": "Vườn đạt chuẩn",
    "da_cai_tao": "Vườn đã cải tạo",
    "vuon_tap": "Vườn tạp",
    "hoang_hoa": "Vườn hoang hóa",
}
#: true condition -> (true garden class key, abandoned?)
CONDITIONS = {
    "model": ("vuon_mau", False),
    "orchard": ("dat_chuan", False),
    "vegetable": ("dat_chuan", False),
    "renovated_prior": ("da_cai_tao", False),
    "mixed": ("vuon_tap", False),
    "renovating": ("vuon_tap", False),
    "abandoned_bare": ("hoang_hoa", True),
    "abandoned_shrub": ("hoang_hoa", True),
    "abandoned_orchard": ("hoang_hoa", True),
    "rice": (None, False),
    "aquaculture": (None, False),
}
_GARDEN_SHARES = {  # share among garden parcels, before the hamlet's abandonment factor
    "model": 0.05,
    "orchard": 0.16,
    "vegetable": 0.12,
    "renovated_prior": 0.07,
    "mixed": 0.30,
    "renovating": 0.04,
    "abandoned_bare": 0.08,
    "abandoned_shrub": 0.12,
    "abandoned_orchard": 0.06,
}
SURVEY_HEADERS = [
    "STT",
    "Mã hộ",
    "Họ và tên chủ hộ",
    "Thôn",
    "Số tờ",
    "Số thửa",
    "Diện tích vườn (m²)",
    "Phân loại vườn",
    "Nhu cầu hỗ trợ",
    "Ngày khảo sát",
    "Ghi chú",
]
SURVEY_TITLE = [
    f"ỦY BAN NHÂN DÂN {COMMUNE_NAME.upper()}",
    "BIỂU TỔNG HỢP KHẢO SÁT, PHÂN LOẠI VƯỜN HỘ NĂM 2020",
]
TARGET_HEADERS = [
    "Thôn",
    "Số vườn hoang hóa đưa vào sử dụng",
    "Tỷ lệ vườn đạt chuẩn (%)",
    "Số vườn mẫu",
]
# Sentinel-2 bands written by the sample: name -> (Earth Search asset name, resolution)
S2_BANDS = {
    "B02": ("blue", 10),
    "B03": ("green", 10),
    "B04": ("red", 10),
    "B08": ("nir", 10),
    "B11": ("swir16", 20),
    "B12": ("swir22", 20),
    "SCL": ("scl", 20),
}
# endmember reflectances for B02, B03, B04, B08, B11, B12
_EM = {
    "veg": np.array([0.030, 0.065, 0.035, 0.420, 0.200, 0.095]),
    "dry": np.array([0.060, 0.090, 0.120, 0.260, 0.330, 0.230]),
    "soil": np.array([0.095, 0.135, 0.175, 0.240, 0.350, 0.290]),
    "wet": np.array([0.055, 0.080, 0.100, 0.150, 0.200, 0.160]),
    "water": np.array([0.050, 0.060, 0.040, 0.020, 0.010, 0.006]),
    "roof": np.array([0.090, 0.110, 0.170, 0.230, 0.300, 0.260]),
    "road": np.array([0.120, 0.130, 0.140, 0.170, 0.210, 0.190]),
    "cloud": np.array([0.450, 0.460, 0.470, 0.500, 0.380, 0.300]),
}
_SUB = 5  # sub-pixels per 10 m pixel side (2 m simulation grid)
#: a sensor like Sentinel-2's (:func:`make_sample`'s ``psf`` and ``misregistration``):
#: a Gaussian optical PSF of 0.45 pixel and scenes displaced by 3 m per axis
REALISTIC_SENSOR = {"psf": 0.45, "misregistration": 3.0}
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
_MIDDLE = ["Văn", "Thị", "Đình", "Hữu", "Xuân", "Thị", "Văn", "Quang", "Minh", "Thanh"]
_GIVEN = [
    "An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hòa", "Hùng", "Hương", "Lan", "Linh",
    "Long", "Mai", "Nam", "Nga", "Nghĩa", "Phúc", "Quý", "Sơn", "Tâm", "Thảo", "Thắng",
    "Thủy", "Tiến", "Trung", "Tuấn", "Vinh", "Xuân", "Yến", "Đức", "Lộc", "Khánh",
]  # fmt: skip


@dataclass
class SampleCommune:
    """What :func:`make_sample` wrote, with counts for a summary."""

    root: Path
    files: list[Path] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A short human-readable account of what was written."""
        c = self.counts
        lines = [
            f"Sample commune {COMMUNE_NAME} written to {self.root} ({len(self.files)} files)",
            f"  hamlets: {c.get('hamlets')}, parcels: {c.get('parcels')} "
            f"(gardens {c.get('gardens')}, abandoned {c.get('abandoned')})",
            f"  survey rows: {c.get('survey_rows')}, defects: {c.get('defects')}",
            f"  Sentinel-2 scenes: {c.get('scenes')} ({c.get('first_date')} .. "
            f"{c.get('last_date')}), grid {c.get('grid')}",
        ]
        if c.get("followup_year"):
            lines.append(
                f"  follow-up campaign {c['followup_year']}: {c.get('followup_scenes')} scenes "
                f"({c.get('followup_first')} .. {c.get('followup_last')}), "
                f"{c.get('renovated')} abandoned gardens renovated since, "
                f"{c.get('followup_abandoned')} abandoned"
            )
        if c.get("psf") or c.get("misregistration"):
            lines.append(
                f"  sensor: PSF {c.get('psf', 0):g} pixel, scenes displaced by "
                f"{c.get('misregistration', 0):g} m per axis (item.json: ntmgis:displacement_m)"
            )
        return "\n".join(lines)


def campaign_paths(
    root: str | Path, year: int | None = None, *, base_year: int | None = None
) -> dict[str, Path]:
    """Paths of one campaign's survey, scenes and truth under ``root``.

    ``year=None`` is the baseline campaign (``survey_<base year>.xlsx``, ``s2/``,
    ``truth/parcels_truth.csv``; the base year is ``base_year``, else the one the sample's
    run config gives, else 2020); a year is a follow-up campaign (``survey_2022.xlsx``,
    ``s2_2022/``, ``truth/parcels_truth_2022.csv``).
    """
    root = Path(root)
    if year is None:
        base = base_year or _base_year(root)
        return {
            "survey_xlsx": root / f"survey_{base}.xlsx",
            "survey_csv": root / f"survey_{base}.csv",
            "scenes": root / "s2",
            "items": root / "s2" / "items.json",
            "truth": root / "truth" / "parcels_truth.csv",
            "defects": root / "truth" / "survey_defects.csv",
            "config": root / f"{STEM}.toml",
        }
    return {
        "survey_xlsx": root / f"survey_{year}.xlsx",
        "survey_csv": root / f"survey_{year}.csv",
        "scenes": root / f"s2_{year}",
        "items": root / f"s2_{year}" / "items.json",
        "truth": root / "truth" / f"parcels_truth_{year}.csv",
        "defects": root / "truth" / f"survey_defects_{year}.csv",
        "config": root / f"{STEM}_{year}.toml",
    }


def sample_paths(
    root: str | Path = "layers", *, followup: int | None = None, base_year: int | None = None
) -> dict[str, Path]:
    """Paths of the sample commune's files under ``root`` (default: ``layers``).

    Parameters
    ----------
    root : str or os.PathLike
        The sample's folder.
    followup : int, optional
        Year of the follow-up campaign: its survey, scenes, truth and config instead of
        the baseline campaign's.
    base_year : int, optional
        The baseline campaign's year, which names its survey and targets
        (``survey_2023.xlsx``); by default the year of the sample's run config
        (``thanh_binh.toml``), else 2020.

    Returns
    -------
    dict of str to pathlib.Path
        ``gpkg``, ``targets``, ``readme`` and the campaign's ``survey_xlsx``,
        ``survey_csv``, ``scenes``, ``items``, ``truth``, ``defects``, ``config``.
    """
    root = Path(root)
    base = base_year or _base_year(root)
    return {
        "gpkg": root / f"{STEM}.gpkg",
        "targets": root / f"targets_{base}.csv",
        "readme": root / "README.md",
        **campaign_paths(root, followup, base_year=base),
    }


def _base_year(root: Path) -> int:
    """The baseline campaign's year: its run config's ``[commune] year``, else 2020.

    A sample written before its baseline files were named by year (``survey_2020.xlsx``
    whatever the year) is read by the names its config gives.
    """
    config = root / f"{STEM}.toml"
    if config.is_file():
        from .config import read_toml

        try:
            raw = read_toml(config)
            survey = Path(str(raw.get("inputs", {}).get("survey", ""))).name
            named = re.fullmatch(r"survey_(\d{4})\.xlsx", survey)
            return int(named.group(1)) if named else int(raw["commune"]["year"])
        except Exception:  # not the sample's config: the default names
            logger.debug("no baseline year in %s", config, exc_info=True)
    return 2020


# --------------------------------------------------------------------------- geometry
def _commune_outline():
    import geopandas as gpd
    import shapely

    src = resources.files("ntmgis") / "data" / "vn_admin_2009" / "communes_ha_tinh.gpkg"
    with resources.as_file(src) as path:
        communes = gpd.read_file(path)
    row = communes[communes["commune_id"] == SOURCE_COMMUNE_ID].to_crs(SAMPLE_CRS)
    geom = shapely.make_valid(row.geometry.iloc[0])
    parts = getattr(geom, "geoms", [geom])
    geom = max(parts, key=lambda g: g.area)  # the main body; slivers dropped
    return shapely.set_precision(geom, 0.01)


def _split_hamlets(outline, rng, n: int):
    """Balanced Voronoi split of the outline into n hamlets (k-means on a point grid)."""
    import shapely

    minx, miny, maxx, maxy = outline.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, 25.0), np.arange(miny, maxy, 25.0))
    pts = np.column_stack([xs.ravel(), ys.ravel()])
    pts = pts[shapely.contains_xy(outline, pts[:, 0], pts[:, 1])]
    centers = pts[rng.choice(len(pts), n, replace=False)]
    for _ in range(40):
        label = np.argmin(((pts[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        centers = np.array([pts[label == k].mean(0) for k in range(n)])
    cells = shapely.voronoi_polygons(shapely.multipoints(centers), extend_to=outline)
    polys = []
    for center in centers:
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(center)))
        polys.append(shapely.set_precision(cell.intersection(outline), 0.01))
    order = np.lexsort((centers[:, 0], -centers[:, 1]))  # north to south, west to east
    return [polys[i] for i in order]


def _village(hamlet, rng, quota: int):
    """Parcels (quadrilaterals sharing edges along lanes), houses and lanes of one hamlet."""
    import shapely
    from shapely.ops import polylabel

    center = polylabel(hamlet, tolerance=5.0)
    cx, cy = center.x, center.y
    theta = rng.uniform(0, math.pi)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    inner = hamlet.buffer(-12.0)
    reach = math.hypot(*np.subtract(hamlet.bounds[2:], hamlet.bounds[:2])) / 2 + 60
    lane_w, alley_every = 4.0, rng.uniform(140, 220)

    def to_map(u, v):
        u, v = np.asarray(u, float), np.asarray(v, float)
        return cx + u * cos_t - v * sin_t, cy + u * sin_t + v * cos_t

    quads, lane_lines = [], []
    v = -reach
    while v < reach:
        lane_lines.append(((-reach, v + lane_w / 2), (reach, v + lane_w / 2)))
        d1, d2 = rng.uniform(18, 48), rng.uniform(18, 48)
        front_a, back = v + lane_w, v + lane_w + d1  # row facing this lane
        front_b = back + d2  # row facing the next lane (its front is the next lane's edge)
        for front, rear in ((front_a, back), (front_b, back)):
            depth = abs(rear - front)
            u = -reach
            next_alley = u + alley_every
            fu, bu = [u], [u]
            while u < reach:
                area = float(np.clip(rng.lognormal(math.log(620), 0.62), 150, 3000))
                width = float(np.clip(area / depth, 7.0, 70.0))
                u_new = u + width
                if u_new > next_alley:  # cross alley: close the run, leave a lane gap
                    quads_run = _row_quads(fu, bu, front, rear, rng)
                    quads.extend(quads_run)
                    u = next_alley + lane_w
                    lane_lines.append(
                        (
                            (next_alley + lane_w / 2, v),
                            (next_alley + lane_w / 2, v + lane_w + d1 + d2),
                        )
                    )
                    next_alley = u + alley_every
                    fu, bu = [u], [u]
                    continue
                u = u_new
                fu.append(u)
                bu.append(u + rng.uniform(-3.5, 3.5))
            quads.extend(_row_quads(fu, bu, front, rear, rng))
        v = front_b
    # to map coordinates, keep whole parcels inside the hamlet, nearest the centre first
    polys, hs = [], []
    for q, house in quads:
        x, y = to_map(q[:, 0], q[:, 1])
        polys.append(shapely.polygons(np.column_stack([x, y])))
        if house is not None:
            hx, hy = to_map(house[:, 0], house[:, 1])
            hs.append(shapely.polygons(np.column_stack([hx, hy])))
        else:
            hs.append(None)
    polys = np.array(polys)  # no snapping: T-junctions between rows must stay exact
    area = shapely.area(polys)
    usable = (area >= 150) & (area <= 3000) & shapely.is_valid(polys)
    ok = shapely.contains(inner, polys) & usable
    for margin in (6.0, 1.0):  # a small hamlet: let the rows come closer to its boundary
        if ok.sum() >= quota:
            break
        ok = shapely.contains(hamlet.buffer(-margin), polys) & usable
    dist = shapely.distance(shapely.centroid(polys), center)
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(dist[idx], kind="stable")][:quota]
    kept = polys[idx]
    kept_houses = [hs[i] for i in idx]
    hull = shapely.convex_hull(shapely.union_all(kept)).buffer(8.0)
    lanes = []
    for (u0, v0), (u1, v1) in lane_lines:
        x, y = to_map([u0, u1], [v0, v1])
        seg = shapely.linestrings(np.column_stack([x, y])).intersection(hull)
        if not seg.is_empty and seg.length > 20:
            lanes.append(seg)
    return kept, kept_houses, lanes


def _row_quads(fu, bu, front, rear, rng):
    """Quadrilaterals of one row between the front line and the rear line."""
    out = []
    bu = np.maximum.accumulate(np.asarray(bu))  # keep rear division points ordered
    for i in range(len(fu) - 1):
        q = np.array([[fu[i], front], [fu[i + 1], front], [bu[i + 1], rear], [bu[i], rear]])
        width = fu[i + 1] - fu[i]
        house = None
        if width > 9:
            sign = 1.0 if rear > front else -1.0
            hd = rng.uniform(7, 11)
            hw = min(width - 4, rng.uniform(8, 13))
            u0 = fu[i] + rng.uniform(1.5, max(1.6, width - hw - 1.5))
            v0 = front + sign * rng.uniform(2.0, 5.0)
            house = np.array(
                [[u0, v0], [u0 + hw, v0], [u0 + hw, v0 + sign * hd], [u0, v0 + sign * hd]]
            )
        out.append((q, house))
    return out


# --------------------------------------------------------------------------- attributes
def _sheets_and_numbers(geoms):
    """Map sheet (số tờ) on a 500 m grid and parcel number (số thửa) in reading order."""
    import shapely

    c = shapely.centroid(geoms)
    x, y = shapely.get_x(c), shapely.get_y(c)
    col = np.floor((x - x.min()) / 500).astype(int)
    row = np.floor((y.max() - y) / 500).astype(int)
    cell = row * (col.max() + 1) + col
    sheet = np.searchsorted(np.unique(cell), cell) + 1
    number = np.zeros(len(geoms), int)
    for s in np.unique(sheet):
        members = np.flatnonzero(sheet == s)
        band = np.floor((y.max() - y[members]) / 40)  # north to south bands, west to east
        order = members[np.lexsort((x[members], band))]
        number[order] = np.arange(1, len(order) + 1)
    return sheet, number


def _person(rng) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _assign_conditions(n, hamlet_idx, dist_rank, area, rng):
    """True condition per parcel: fringe parcels may be rice or ponds, the rest gardens."""
    cond = np.empty(n, dtype=object)
    fringe = (dist_rank > 0.8) & (area > 450)
    non_garden = fringe & (rng.random(n) < 0.4)
    cond[non_garden] = np.where(rng.random(non_garden.sum()) < 0.75, "rice", "aquaculture")
    names = list(_GARDEN_SHARES)
    base = np.array([_GARDEN_SHARES[k] for k in names])
    abandoned_mask = np.array([CONDITIONS[k][1] for k in names])
    factors = rng.uniform(0.55, 1.6, hamlet_idx.max() + 1)  # hamlets differ
    for h in range(hamlet_idx.max() + 1):
        p = base.copy()
        p[abandoned_mask] *= factors[h]
        p /= p.sum()
        members = np.flatnonzero((hamlet_idx == h) & ~non_garden)
        cond[members] = rng.choice(names, size=len(members), p=p)
    return cond


def _land_use(cond, rng):
    lu = np.empty(len(cond), dtype=object)
    for i, c in enumerate(cond):
        if c == "rice":
            lu[i] = "LUC"
        elif c == "aquaculture":
            lu[i] = "NTS"
        elif c in ("orchard", "abandoned_orchard"):
            lu[i] = rng.choice(["CLN", "ONT+CLN", "CLN"])
        elif c in ("vegetable", "abandoned_bare"):
            lu[i] = rng.choice(["HNK", "ONT", "ONT+CLN"], p=[0.45, 0.3, 0.25])
        else:
            lu[i] = rng.choice(["ONT", "ONT+CLN", "CLN", "HNK"], p=[0.38, 0.42, 0.1, 0.1])
    return lu


# --------------------------------------------------------------------------- phenology
def _doy(dates) -> np.ndarray:
    return np.array([d.timetuple().tm_yday for d in dates], float)


def _cycles(t, n, phase, gmax):
    """Annual crops: tillage (bare, wet soil), growth, plateau, harvest; n cycles a year."""
    p = ((t / 365.0) * n + phase) % 1.0
    g = np.where(
        p < 0.12,
        0.05,
        np.where(
            p < 0.55,
            0.05 + (gmax - 0.05) / (1 + np.exp(-14 * (p - 0.33))),
            np.where(p < 0.88, gmax, gmax - (gmax - 0.2) * (p - 0.88) / 0.12),
        ),
    )
    wet = np.where(p < 0.12, 0.8, 0.3)
    return g, wet


def _dry_season(t):
    """Weight of the hot dry season (Lào wind, April-August) at day of year t."""
    return np.clip(np.sin((t - 90) / 150 * math.pi), 0, 1) * (t > 90) * (t < 240)


def _event(t, day, width):
    """A management event: 1 at ``day`` fading over ``width`` days after it."""
    d = t - day
    return np.where((d >= -3) & (d <= width), 1.0 - np.clip(d, 0, None) / (width + 1), 0.0)


def _trajectory(cond, t, rng):
    """Fractions (green veg, dry veg, soil, wet share of soil, water) over dates t."""
    z = np.zeros_like(t)
    dry = _dry_season(t)
    water = z.copy()
    wet = np.full_like(t, 0.3)
    rain = np.clip(np.sin((t - 240) / 120 * math.pi), 0, 1) * (t > 240)
    if cond in ("orchard", "model"):
        g = rng.uniform(0.74, 0.86) - 0.04 * dry + 0.02 * np.sin(2 * math.pi * t / 365)
        for _ in range(3):  # weeding or pruning: understory cleared, soil shows
            g = g - rng.uniform(0.14, 0.24) * _event(t, rng.uniform(20, 330), 30)
        d = 0.03 + 0.03 * dry
        if cond == "model":
            gv, wet = _cycles(t, 3, rng.random(), rng.uniform(0.75, 0.88))
            g = 0.6 * g + 0.4 * gv
    elif cond == "vegetable":
        g, wet = _cycles(t, rng.choice([2, 3, 3]), rng.random(), rng.uniform(0.62, 0.84))
        d = 0.04 + 0.04 * dry
    elif cond == "renovated_prior":
        gv, wet = _cycles(t, 2, rng.random(), rng.uniform(0.5, 0.7))
        g = 0.5 * gv + 0.5 * (0.3 + 0.15 * t / 365)
        d = 0.05 + 0.03 * dry
    elif cond == "mixed":
        # mixed trees and weeds, with vegetable beds on part of the garden (tended, low value)
        trees = rng.uniform(0.48, 0.66) - 0.06 * dry + 0.05 * rain
        for _ in range(2):  # clearing weeds under the trees
            trees = trees - rng.uniform(0.12, 0.25) * _event(t, rng.uniform(20, 330), 30)
        beds, wet = _cycles(t, 2, rng.random(), rng.uniform(0.6, 0.8))
        share = rng.uniform(0.3, 0.5)
        g = (1 - share) * trees + share * beds
        d = 0.08 + 0.08 * dry
    elif cond == "renovating":
        day = rng.uniform(150, 240)
        g0 = rng.uniform(0.38, 0.55) + 0.03 * t / 365
        cleared = (t >= day) & (t < day + 30)
        regrow = np.clip((t - day - 30) / 90, 0, 1) * rng.uniform(0.45, 0.65)
        g = np.where(t < day, g0 - 0.05 * dry, np.where(cleared, 0.04, 0.06 + regrow))
        d = np.where(t < day, 0.2 * dry + 0.08, 0.03)
        wet = np.where(cleared, 0.15, 0.3)
    elif cond == "abandoned_bare":
        g = rng.uniform(0.04, 0.14) + 0.08 * rain
        d = rng.uniform(0.12, 0.3) + 0.1 * dry
        wet = np.full_like(t, 0.1)
    elif cond == "abandoned_shrub":
        g = rng.uniform(0.34, 0.52) + 0.10 * t / 365 - 0.05 * dry
        d = 0.1 + 0.18 * dry
        wet = np.full_like(t, 0.15)
    elif cond == "abandoned_orchard":
        g = rng.uniform(0.68, 0.80) + 0.06 * t / 365 - 0.03 * dry
        d = 0.06 + 0.12 * dry
        wet = np.full_like(t, 0.2)
    elif cond == "rice":
        season = ((t >= 15) & (t < 140)) | ((t >= 155) & (t < 250))
        start = np.where(t < 150, 15, 155)
        age = np.clip((t - start) / 90, 0, 1)
        g = np.where(season, 0.08 + 0.8 / (1 + np.exp(-10 * (age - 0.4))), 0.12 + 0.1 * rain)
        g = np.where(season & (age > 0.95), 0.3, g)
        water = np.where(season & (age < 0.25), 0.6, np.where(t > 280, 0.4, 0.0))
        d = np.where(season & (age > 0.85), 0.3, 0.05)
        wet = np.full_like(t, 0.8)
    elif cond == "aquaculture":
        g, d, water = 0.05 + z, 0.0 + z, 0.85 + z
    elif cond == "forest":
        g, d = 0.9 - 0.03 * dry + z, 0.02 + z
    elif cond == "shrub":
        g, d = 0.55 - 0.08 * dry + z, 0.1 + 0.1 * dry
    else:  # pragma: no cover - internal: CONDITIONS lists every branch above
        raise InputError(
            _say("error.sample.unknown_condition", cond=cond, known=", ".join(CONDITIONS))
        )
    g = np.clip(g + rng.normal(0, 0.01, t.shape), 0.0, 0.97)
    d = np.clip(np.broadcast_to(d, t.shape), 0.0, 1.0 - g)
    water = np.clip(np.broadcast_to(water, t.shape), 0, 1 - g - d)
    soil = np.clip(1.0 - g - d - water, 0, 1)
    return np.stack([g, d, soil, np.broadcast_to(wet, t.shape), water], -1)


def _spectra(frac):
    """Reflectance (..., 6 bands) from fractions (..., 5) by linear mixing."""
    g, d, s, w, water = (frac[..., i, None] for i in range(5))
    soil = (1 - w) * _EM["soil"] + w * _EM["wet"]
    return g * _EM["veg"] + d * _EM["dry"] + s * soil + water * _EM["water"]


def _smooth_noise(rng, shape, sigma):
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-9)


def _scene_dates(year: int, n: int, rng) -> list[dt.date]:
    """N acquisition dates in the year on the 5-day Sentinel-2 revisit grid of one orbit."""
    start = dt.date(year, 1, 3)
    step = (360 - 3) / n
    days = sorted({5 * round((k * step + rng.uniform(0, step * 0.6)) / 5) for k in range(n)})
    while len(days) < n:  # collisions on the 5-day grid: fill the largest gap
        gaps = np.diff([*days, 360])
        i = int(np.argmax(gaps))
        days = sorted({*days, days[i] + 5 * round(gaps[i] / 10)})
    return [start + dt.timedelta(days=d) for d in days[:n]]


def _cloud_fraction(d: dt.date, rng) -> float:
    doy = d.timetuple().tm_yday
    if 245 <= doy <= 335:  # the rainy season (September-November) in Hà Tĩnh
        return float(rng.uniform(0.25, 0.75))
    return float(rng.choice([0.0, 0.0, rng.uniform(0.02, 0.25)]))


# --------------------------------------------------------------------------- writers
def _write_gpkg(path, layers: dict):
    """The one atomic GeoPackage writer, with GDAL's clock fixed (reproducible bytes)."""
    import pyogrio

    from ._io import write_gpkg

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2020-12-31T00:00:00Z"})
    try:
        write_gpkg(path, layers)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _write_cog(path, array, transform, nodata=0):
    import rasterio

    with rasterio.open(
        path, "w", driver="COG", width=array.shape[1], height=array.shape[0], count=1,
        dtype=array.dtype, crs=IMAGERY_CRS, transform=transform, nodata=nodata,
        compress="DEFLATE", predictor="YES", blocksize=256, overviews="NONE",
    ) as dst:  # fmt: skip
        dst.write(array, 1)


def _freeze_xlsx(path: Path, when: dt.datetime) -> None:
    """Make an XLSX byte-for-byte reproducible: fixed modified time and zip entry dates."""
    import re
    import zipfile

    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, data)


def _write_survey(paths: dict, rows: list[list], dates_as_cells: set[int], year: int):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Khảo sát vườn"
    title = [SURVEY_TITLE[0], SURVEY_TITLE[1].replace("2020", str(year))]
    ws.append([title[0]])
    ws.append([title[1]])
    ws.append([])
    ws.append(SURVEY_HEADERS)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    ws["A1"].font = Font(bold=True)
    ws["A2"].font = Font(bold=True, size=13)
    for i, row in enumerate(rows):
        values = list(row)
        if i in dates_as_cells:  # typed as a real date in Excel
            day, month, year = (int(p) for p in values[9].split("/"))
            values[9] = dt.datetime(year, month, day)
        ws.append(values)
        if i in dates_as_cells:
            ws.cell(row=ws.max_row, column=10).number_format = "DD/MM/YYYY"
    for col, width in zip("ABCDEFGHIJK", [5, 9, 24, 16, 6, 7, 10, 18, 22, 12, 24]):
        ws.column_dimensions[col].width = width
    fixed = dt.datetime(year, 5, 4, 8, 0, 0)
    wb.properties.creator = "Cán bộ địa chính xã"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.save(paths["survey_xlsx"])
    _freeze_xlsx(paths["survey_xlsx"], fixed)
    with open(paths["survey_csv"], "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([title[0]])
        writer.writerow([title[1]])
        writer.writerow([])
        writer.writerow(SURVEY_HEADERS)
        writer.writerows(rows)


# --------------------------------------------------------------------------- the survey
def _strip_diacritics(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


_OLD_TONE = {"hòa": "hoà", "Hòa": "Hoà", "hóa": "hoá", "Hóa": "Hoá"}
_ABBREV = {
    "vuon_mau": "VM",
    "dat_chuan": "ĐC",
    "da_cai_tao": "CT",
    "vuon_tap": "VT",
    "hoang_hoa": "HH",
}


def _claim(cond: str, rng) -> tuple[str, str]:
    """The class a household reports (a claim: sometimes rosier than the truth)."""
    true_class = CONDITIONS[cond][0]
    note = ""
    r = rng.random()
    if cond == "renovating":  # surveyed in April, before the mid-year renovation
        return ("hoang_hoa" if r < 0.5 else "vuon_tap"), "đăng ký cải tạo"
    if CONDITIONS[cond][1]:
        if r < 0.10:
            return "vuon_tap", note  # abandonment under-reported
        if r < 0.14:
            return "da_cai_tao", "báo cáo đã cải tạo"  # a renovation claimed, none done
        return true_class, note
    if true_class == "vuon_tap" and r < 0.03:
        return "hoang_hoa", note
    if true_class == "dat_chuan" and r < 0.06:
        return "vuon_mau", note
    return true_class, note


def _class_text(key: str, rng, defect: str | None) -> str:
    text = GARDEN_CLASSES[key]
    if defect == "no_diacritics":
        return _strip_diacritics(text).lower() if rng.random() < 0.5 else _strip_diacritics(text)
    if defect == "case":
        return text.upper() if rng.random() < 0.5 else text.lower()
    if defect == "spaces":
        return "  " + text.replace(" ", "  ", 1) + " "
    if defect == "old_tone":
        for new, old in _OLD_TONE.items():
            text = text.replace(new, old)
        return text
    if defect == "abbreviation":
        return _ABBREV[key]
    return text


# --------------------------------------------------------------------------- main
def make_sample(
    outdir,
    *,
    seed: int = 2020,
    n_parcels: int = 1600,
    n_dates: int = 16,
    year: int = 2020,
    followup_year: int | None = 2022,
    followup_dates: int = 12,
    psf: float = 0.0,
    misregistration: float = 0.0,
    progress: ProgressCallback | None = None,
) -> SampleCommune:
    """Write the simulated sample commune (Xã Thanh Bình) to ``outdir``.

    Parameters
    ----------
    outdir : str or os.PathLike
        Folder to write (created when missing; the sample's files in it are replaced).
    seed : int, default 2020
        Random seed; the same seed always gives the same data.
    n_parcels : int, default 1600
        Number of household parcels (at least 200).
    n_dates : int, default 16
        Number of Sentinel-2 dates in the year (at least 12).
    year : int, default 2020
        Year of the survey and the imagery. Scenes from 25 January 2022 on carry the
        processing-baseline 04.00 offset (BOA_ADD_OFFSET = -1000).
        The baseline campaign's survey and targets are named by it
        (``survey_2023.xlsx``, ``targets_2023.csv``; its scenes ``s2/``), and so is its
        run config's ``year``, from which :func:`sample_paths` finds them.
    followup_year : int or None, default 2022
        Year of a later campaign (after ``year``; survey, scenes and truth, ``*_2022``)
        in which hamlets have renovated some abandoned gardens at their own pace;
        ``None`` for none.
    followup_dates : int, default 12
        Sentinel-2 dates of the later campaign.
    psf : float, default 0.0
        Standard deviation, in pixels of each band, of a Gaussian optical point-spread
        function blurring every scene after its detectors' box average (0: none, a pixel
        sees exactly its footprint). Sentinel-2's 10 m bands are specified with a
        modulation transfer function of 0.15-0.30 at Nyquist, of which the box passes
        0.64: 0.45 is that sensor (:data:`REALISTIC_SENSOR`).
    misregistration : float, default 0.0
        Standard deviation, in metres and per axis, of each scene's random displacement
        from where its georeferencing puts it (0: every scene exactly registered). Yan et
        al. (2018) measured Sentinel-2A tiles misregistered by 0.4 pixel on average after
        ESA's 2016 update; 3 m per axis gives that (0.38 pixel).
        The displacements are drawn from their own random stream: with the same seed,
        the commune, its survey and its clouds are those of an exactly registered sample,
        and each scene's item records its shift (``ntmgis:displacement_m``, east and
        north).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    SampleCommune
        The root folder, the files written and counts (``summary()`` prints them).

    Examples
    --------
    >>> from ntmgis.sample import make_sample
    >>> s = make_sample("/tmp/xa_mau", seed=7)  # doctest: +SKIP
    >>> print(s.summary())  # doctest: +SKIP
    """
    import geopandas as gpd
    import shapely

    if n_parcels < 200:
        raise InputError(_say("error.sample.too_few_parcels", n=n_parcels))
    if n_dates < 12:
        raise InputError(_say("error.sample.too_few_dates", n=n_dates))
    if not (np.isfinite(psf) and np.isfinite(misregistration)) or psf < 0 or misregistration < 0:
        raise InputError(_say("error.sample.bad_sensor", psf=psf, misregistration=misregistration))
    if followup_year is not None and followup_year <= year:
        raise InputError(_say("error.sample.followup_not_later", followup=followup_year,
                              year=year))  # fmt: skip
    logger.info("sample commune: seed %s, %d parcels, %d dates, into %s", seed, n_parcels,
                n_dates, outdir)  # fmt: skip
    rng = np.random.default_rng(seed)
    root = Path(outdir)
    (root / "truth").mkdir(parents=True, exist_ok=True)
    paths = sample_paths(root, base_year=year)
    result = SampleCommune(root=root)

    # ---- commune, hamlets, parcels
    report(progress, 0.0, "commune and hamlets")
    outline = _commune_outline()
    hamlet_polys = _split_hamlets(outline, rng, len(HAMLET_NAMES))
    weights = np.array([p.area for p in hamlet_polys]) * rng.uniform(0.8, 1.2, len(hamlet_polys))
    quotas = np.floor(weights / weights.sum() * n_parcels).astype(int)
    quotas[: n_parcels - quotas.sum()] += 1
    geoms, houses, hamlet_idx, dist_rank, lanes = [], [], [], [], []
    for h, (poly, quota) in enumerate(zip(hamlet_polys, quotas)):
        report(progress, 0.02 + 0.08 * h / len(hamlet_polys), f"parcels of {HAMLET_NAMES[h]}")
        kept, kept_houses, hamlet_lanes = _village(poly, rng, int(quota))
        if len(kept) < quota:
            raise _NoRoomError(_say("error.sample.no_room", hamlet=HAMLET_NAMES[h],
                                    room=len(kept), quota=quota, seed=seed))  # fmt: skip
        geoms.extend(kept)
        houses.extend(kept_houses)
        hamlet_idx.extend([h] * len(kept))
        dist_rank.extend(np.linspace(0, 1, len(kept)))
        lanes.extend(hamlet_lanes)
    geoms = np.array(geoms)
    hamlet_idx = np.array(hamlet_idx)
    dist_rank = np.array(dist_rank)
    n = len(geoms)
    area = shapely.area(geoms)
    sheet, number = _sheets_and_numbers(geoms)
    cond = _assign_conditions(n, hamlet_idx, dist_rank, area, rng)
    land_use = _land_use(cond, rng)
    has_house = np.isin(land_use, ["ONT", "ONT+CLN"]) & np.array([h is not None for h in houses])
    owners = [_person(rng) for _ in range(n)]
    household = np.arange(1, n + 1)
    # about 5% of households hold a second parcel (a garden beside their house plot)
    for i in np.flatnonzero(rng.random(n) < 0.05):
        j = i + 1
        if j < n and hamlet_idx[j] == hamlet_idx[i] and not has_house[j]:
            owners[j], household[j] = owners[i], household[i]
    _, household = np.unique(household, return_inverse=True)
    ma_ho = [f"HO{k + 1:04d}" for k in household]

    commune = gpd.GeoDataFrame(
        {"ten_xa": [COMMUNE_NAME], "ten_huyen": [DISTRICT_NAME], "ten_tinh": [PROVINCE_NAME],
         "nguon": ["Ranh giới xã Đức La (2009, MIT) dùng làm hình dạng; tên và dữ liệu mô phỏng"]},
        geometry=[outline], crs=SAMPLE_CRS,
    )  # fmt: skip
    hamlets = gpd.GeoDataFrame(
        {"ten_thon": HAMLET_NAMES, "ma_thon": [f"T{i + 1}" for i in range(len(HAMLET_NAMES))]},
        geometry=hamlet_polys, crs=SAMPLE_CRS,
    )  # fmt: skip
    parcels = gpd.GeoDataFrame(
        {
            "SHBANDO": sheet.astype("int32"),
            "SHTHUA": number.astype("int32"),
            "DIENTICH": np.round(area, 1),
            "KHLOAIDAT": land_use.astype(str),
            "TENCHU": owners,
            "DIADANH": [HAMLET_NAMES[h] for h in hamlet_idx],
            "MAHO": ma_ho,
        },
        geometry=list(geoms),
        crs=SAMPLE_CRS,
    )
    lanes_gdf = gpd.GeoDataFrame(
        {"loai": ["đường ngõ"] * len(lanes), "rong_m": [4.0] * len(lanes)},
        geometry=lanes, crs=SAMPLE_CRS,
    )  # fmt: skip
    _write_gpkg(
        paths["gpkg"],
        {"commune": commune, "hamlets": hamlets, "parcels": parcels, "lanes": lanes_gdf},
    )
    result.files.append(paths["gpkg"])

    # ---- the baseline campaign: survey, targets, imagery, truth
    c = _Commune(parcels, houses, has_house, lanes_gdf, outline, hamlet_idx, household, ma_ho,
                 owners, sheet, number, area, land_use)  # fmt: skip
    sensor = _Sensor.of(psf, misregistration, seed, year)
    base = _campaign(root, c, cond, year=year, n_dates=n_dates, rng=rng, followup=None,
                     progress=_progress.scaled(progress, 0.12, 0.6), targets=True,
                     base_year=year, sensor=sensor)  # fmt: skip
    result.files += base["files"]
    paths["config"].write_text(_sample_config_text(year, year, False), encoding="utf-8")
    result.files.append(paths["config"])
    result.counts = {
        "hamlets": len(HAMLET_NAMES),
        "parcels": n,
        "gardens": base["gardens"],
        "abandoned": base["abandoned"],
        "survey_rows": base["survey_rows"],
        "defects": base["defects"],
        "scenes": len(base["dates"]),
        "first_date": base["dates"][0].isoformat(),
        "last_date": base["dates"][-1].isoformat(),
        "grid": base["grid"],
        "followup_year": "",
        "base_year": year,
    }
    # ---- a later campaign: some gardens renovated, a few newly abandoned
    if followup_year is not None:
        rng2 = np.random.default_rng([seed, followup_year])
        cond2 = _evolve(cond, hamlet_idx, rng2)
        later = _campaign(root, c, cond2, year=followup_year, n_dates=followup_dates, rng=rng2,
                          followup=followup_year, previous=cond, base_year=year,
                          sensor=_Sensor.of(psf, misregistration, seed, followup_year),
                          progress=_progress.scaled(progress, 0.6, 0.99))  # fmt: skip
        result.files += later["files"]
        fpaths = sample_paths(root, followup=followup_year, base_year=year)
        fpaths["config"].write_text(
            _sample_config_text(followup_year, year, True), encoding="utf-8"
        )
        result.files.append(fpaths["config"])
        result.counts.update(
            followup_year=followup_year,
            followup_abandoned=later["abandoned"],
            followup_scenes=len(later["dates"]),
            followup_first=later["dates"][0].isoformat(),
            followup_last=later["dates"][-1].isoformat(),
            renovated=int(sum(CONDITIONS[a][1] and not CONDITIONS[b][1]
                              for a, b in zip(cond, cond2))),
        )  # fmt: skip
    if psf or misregistration:
        result.counts.update(psf=float(psf), misregistration=float(misregistration))
    _write_readme(root, result, seed)
    result.files.append(paths["readme"])
    report(progress, 1.0, "done")
    return result


@dataclass
class _Commune:
    """What every campaign of the sample shares: parcels and who holds them."""

    parcels: object
    houses: list
    has_house: np.ndarray
    lanes: object
    outline: object
    hamlet_idx: np.ndarray
    household: np.ndarray
    ma_ho: list
    owners: list
    sheet: np.ndarray
    number: np.ndarray
    area: np.ndarray
    land_use: np.ndarray


def _evolve(cond, hamlet_idx, rng):
    """Conditions at a later campaign: hamlets renovate abandoned gardens at their own pace."""
    pace = rng.uniform(0.2, 0.65, hamlet_idx.max() + 1)
    new = cond.copy()
    for i, c in enumerate(cond):
        r = rng.random()
        if CONDITIONS[c][1]:  # abandoned: renovated since, renovated this year, or still so
            if r < pace[hamlet_idx[i]]:
                new[i] = "renovated_prior"
            elif r < pace[hamlet_idx[i]] + 0.08:
                new[i] = "renovating"
        elif c == "renovating":
            new[i] = "renovated_prior"
        elif c == "renovated_prior":
            new[i] = "vegetable" if r < 0.5 else "orchard"
        elif c == "mixed" and r < 0.2:
            new[i] = "abandoned_shrub" if r < 0.04 else ("orchard" if r < 0.12 else "vegetable")
        elif c in ("orchard", "vegetable", "model") and r < 0.03:
            new[i] = "abandoned_shrub"
    return new


def _campaign(root, c: _Commune, cond, *, year, n_dates, rng, followup, progress,
              targets=False, previous=None, base_year=None, sensor=None):  # fmt: skip
    """Write one campaign: the survey (with defects), targets, scenes and the truth."""
    import pandas as pd

    paths = sample_paths(root, followup=followup, base_year=base_year)
    paths["truth"].parent.mkdir(parents=True, exist_ok=True)
    sheet, number, area, land_use = c.sheet, c.number, c.area, c.land_use
    hamlet_idx, household, ma_ho, owners, has_house = (
        c.hamlet_idx,
        c.household,
        c.ma_ho,
        c.owners,
        c.has_house,
    )
    n = len(cond)
    files = []
    report(progress, 0.0, "Step 2 survey")
    garden = np.array([CONDITIONS[c][0] is not None for c in cond])
    gardens = np.flatnonzero(garden)
    unsurveyed = int(rng.choice(gardens))
    order = [i for i in np.lexsort((household, hamlet_idx)) if garden[i] and i != unsurveyed]
    survey_rows, defects, claims = [], [], {}
    needs_options = ["cây giống", "vốn", "kỹ thuật"]
    hamlet_day = {h: int(rng.integers(1, 26)) for h in range(len(HAMLET_NAMES))}
    defect_kinds = ["no_diacritics"] * 8 + ["case"] * 3 + ["spaces"] * 3 + ["old_tone"] * 2
    defect_kinds += ["abbreviation"] * 2
    misspelt_at = int(rng.integers(len(order) // 5, len(order) * 4 // 5))
    for k, i in enumerate(order):
        claim, note = _claim(cond[i], rng)
        claims[i] = claim
        row_defects = []
        kind = None
        if k == misspelt_at:
            class_text = "Vườn hoag hóa"
            kind = "misspelt_class"
        else:
            r = rng.random()
            kind = defect_kinds[int(r * 250)] if r < len(defect_kinds) / 250 else None
            if kind == "old_tone" and claim != "hoang_hoa":
                kind = None  # only "hóa" has an old-style spelling among the classes
            class_text = _class_text(claim, rng, kind)
        garden_area = area[i] * (rng.uniform(0.5, 0.8) if has_house[i] else 1.0)
        area_text: object = int(round(garden_area))
        if garden_area >= 1000 and rng.random() < 0.2:
            area_text = f"{int(round(garden_area)):,}".replace(",", ".")
            row_defects.append(("thousands_separator", f"diện tích '{area_text}'"))
        name, hamlet_text = owners[i], HAMLET_NAMES[hamlet_idx[i]]
        if rng.random() < 0.015:
            name = f" {name.replace(' ', '  ', 1)} "
            row_defects.append(("stray_spaces_name", repr(name)))
        if rng.random() < 0.025:
            hamlet_text = _strip_diacritics(hamlet_text)
            row_defects.append(("hamlet_no_diacritics", hamlet_text))
        elif "Hòa" in hamlet_text and rng.random() < 0.1:
            hamlet_text = hamlet_text.replace("Hòa", "Hoà")
            row_defects.append(("hamlet_old_tone", hamlet_text))
        if kind is not None:
            row_defects.append((f"class_{kind}" if kind != "misspelt_class" else kind, class_text))
        needs = ""
        if claim in ("vuon_tap", "hoang_hoa") or rng.random() < 0.1:
            picks = [x for x in needs_options if rng.random() < 0.45]
            needs = ", ".join(picks)
        day = min(30, hamlet_day[hamlet_idx[i]] + int(rng.integers(0, 5)))
        row = [
            0, ma_ho[i], name, hamlet_text, int(sheet[i]), int(number[i]), area_text,
            class_text, needs, f"{day:02d}/04/{year}", note,
        ]  # fmt: skip
        survey_rows.append(row)
        defects.extend((kind_, row, detail) for kind_, detail in row_defects)
    # a household typed twice (the same row again, a few lines later)
    dup_src = int(rng.integers(len(survey_rows) // 4, len(survey_rows) * 3 // 4))
    duplicate = list(survey_rows[dup_src])
    survey_rows.insert(dup_src + 3, duplicate)
    defects.append(("duplicate_household", duplicate, survey_rows[dup_src]))
    # a row whose parcel does not exist (parcel number beyond the sheet's last)
    ghost_sheet = int(sheet[order[0]])
    ghost_no = int(number[sheet == ghost_sheet].max()) + 7
    ghost_at = int(rng.integers(len(survey_rows) // 10, len(survey_rows) * 9 // 10))
    ghost = [
        0, "HO9999", _person(rng), HAMLET_NAMES[hamlet_idx[order[0]]], ghost_sheet, ghost_no,
        350, GARDEN_CLASSES["vuon_tap"], "cây giống", f"20/04/{year}", "",
    ]  # fmt: skip
    survey_rows.insert(ghost_at, ghost)
    defects.append(("parcel_not_found", ghost, f"tờ {ghost_sheet} thửa {ghost_no}"))
    row_number = {id(r): j for j, r in enumerate(survey_rows)}
    for j, row in enumerate(survey_rows):
        row[0] = j + 1  # STT
    first_data_row = len(SURVEY_TITLE) + 3  # title rows, empty row, header row -> row 5
    defect_records = [
        {"defect": kind, "survey_row": row_number[id(row)] + first_data_row, "stt": row[0],
         "SHBANDO": row[4], "SHTHUA": row[5],
         "detail": detail if isinstance(detail, str)
         else f"trùng với dòng {row_number[id(detail)] + first_data_row} (STT {detail[0]})"}
        for kind, row, detail in defects
    ]  # fmt: skip
    defect_records.append({
        "defect": "parcel_not_surveyed", "survey_row": "", "stt": "",
        "SHBANDO": int(sheet[unsurveyed]), "SHTHUA": int(number[unsurveyed]),
        "detail": "vườn không có trong biểu khảo sát",
    })  # fmt: skip
    date_cells = {j for j in range(len(survey_rows)) if rng.random() < 0.04}
    _write_survey(paths, survey_rows, date_cells, year)
    files += [paths["survey_xlsx"], paths["survey_csv"]]
    pd.DataFrame(defect_records).sort_values(["defect", "survey_row"]).to_csv(
        paths["defects"], index=False
    )

    if targets:
        targets = []
        for h, name in enumerate(HAMLET_NAMES):
            members = [i for i in order if hamlet_idx[i] == h]
            claimed_abandoned = sum(claims[i] == "hoang_hoa" for i in members)
            targets.append({
                TARGET_HEADERS[0]: name,
                TARGET_HEADERS[1]: max(1, int(round(claimed_abandoned * rng.uniform(0.25, 0.45)))),
                TARGET_HEADERS[2]: int(5 * round(rng.uniform(35, 60) / 5)),
                TARGET_HEADERS[3]: int(rng.integers(3, 9)),
            })  # fmt: skip
        pd.DataFrame(targets).to_csv(paths["targets"], index=False, encoding="utf-8-sig")
        files.append(paths["targets"])

    report(progress, 0.1, "Sentinel-2 scenes")
    scene_info = _write_scenes(paths["scenes"], c.parcels, c.houses, has_house, cond, c.lanes,
                               c.outline, year, n_dates, rng,
                               _progress.scaled(progress, 0.1, 1.0), sensor)  # fmt: skip
    files += scene_info["files"]

    # ---- truth
    hard = []
    for i in range(n):
        tags = []
        if cond[i] == "abandoned_orchard":
            tags.append("abandoned_orchard")
        if area[i] < 200:
            tags.append("under_two_pixels")
        if i == unsurveyed:
            tags.append("not_surveyed")
        if i in claims and claims[i] != CONDITIONS[cond[i]][0]:
            tags.append("survey_disagrees")
        hard.append(";".join(tags))
    truth = pd.DataFrame({
        "SHBANDO": sheet, "SHTHUA": number, "thon": [HAMLET_NAMES[h] for h in hamlet_idx],
        "land_use": land_use.astype(str), "condition": cond.astype(str),
        "garden_class": [GARDEN_CLASSES.get(CONDITIONS[c][0], "") for c in cond],
        "abandoned": [int(CONDITIONS[c][1]) for c in cond],
        "survey_claim": [GARDEN_CLASSES[claims[i]] if i in claims else "" for i in range(n)],
        "hard_case": hard,
        **({"condition_before": previous.astype(str)} if previous is not None else {}),
    })  # fmt: skip
    truth.to_csv(paths["truth"], index=False)
    files += [paths["truth"], paths["defects"]]

    return {
        "files": files,
        "gardens": int(garden.sum()),
        "abandoned": int(truth["abandoned"].sum()),
        "survey_rows": len(survey_rows),
        "defects": len(defect_records),
        "dates": scene_info["dates"],
        "grid": scene_info["grid"],
    }


@dataclass(frozen=True)
class _Sensor:
    """How the simulated sensor departs from box pixels exactly registered."""

    psf: float
    misregistration: float
    seed: tuple

    @classmethod
    def of(cls, psf, misregistration, seed, year):
        if not psf and not misregistration:
            return None
        return cls(float(psf), float(misregistration), (int(seed), int(year), 0x5E45))

    def displacements(self, n: int) -> np.ndarray:
        """Each scene's displacement (east, north) in metres, from the sensor's own stream."""
        if not self.misregistration:
            return np.zeros((n, 2))
        return np.random.default_rng(self.seed).normal(0.0, self.misregistration, (n, 2))


def _displace(refl, east: float, north: float, step: float) -> np.ndarray:
    """The ground ``refl`` (rows south, columns east, ``step`` m) as seen displaced.

    A scene displaced by (east, north) metres shows at each place the ground that lies
    (east, north) from it the other way: bilinear between the simulation's cells,
    the edge held beyond the grid.
    """
    from scipy import ndimage

    shift = (-north / step, east / step) + (0.0,) * (refl.ndim - 2)
    return ndimage.shift(refl, shift, order=1, mode="nearest", prefilter=False)


def _blur(pixels, sigma: float) -> np.ndarray:
    """A band's pixels through a Gaussian optical PSF of ``sigma`` pixels."""
    from scipy import ndimage

    sigmas = (sigma, sigma) + (0.0,) * (pixels.ndim - 2)
    return ndimage.gaussian_filter(pixels, sigmas, mode="nearest")


def _write_scenes(s2, parcels, houses, has_house, cond, lanes, outline, year, n_dates, rng,
                  progress, sensor=None):  # fmt: skip
    """Simulate and write the Sentinel-2 L2A-like time series in folder ``s2``."""
    import geopandas as gpd
    import shapely
    from rasterio import features
    from rasterio.transform import from_origin

    s2 = Path(s2)
    s2.mkdir(parents=True, exist_ok=True)
    for old in s2.glob("*/*"):
        old.unlink()
    # grid: the commune in UTM 48N plus a margin, snapped to 60 m as Sentinel-2 tiles are
    outline_utm = gpd.GeoSeries([outline], crs=SAMPLE_CRS).to_crs(IMAGERY_CRS)
    minx, miny, maxx, maxy = outline_utm.total_bounds
    minx, miny = math.floor((minx - 120) / 60) * 60, math.floor((miny - 120) / 60) * 60
    maxx, maxy = math.ceil((maxx + 120) / 60) * 60, math.ceil((maxy + 120) / 60) * 60
    w10, h10 = int((maxx - minx) / 10), int((maxy - miny) / 10)
    t10, t20 = from_origin(minx, maxy, 10, 10), from_origin(minx, maxy, 20, 20)
    sub = _SUB
    t2 = from_origin(minx, maxy, 10 / sub, 10 / sub)
    shape2 = (h10 * sub, w10 * sub)

    # entity map at 2 m: background classes, parcels, houses, lanes
    bg_classes = ["rice", "forest", "shrub", "aquaculture"]
    field = _smooth_noise(rng, shape2, 60)
    field2 = _smooth_noise(rng, shape2, 25)
    bg = np.where(field > 0.55, 1, np.where(field < -1.35, 3, np.where(field2 > 0.9, 2, 0)))
    n = len(parcels)
    ent = bg.astype(np.int32) + n  # parcels 0..n-1, then background, then roof and road
    roof_id, road_id = n + len(bg_classes), n + len(bg_classes) + 1
    p_utm = parcels.geometry.to_crs(IMAGERY_CRS)
    ent = features.rasterize(
        ((g, i) for i, g in enumerate(p_utm)),
        out=ent,
        transform=t2,
        merge_alg=features.MergeAlg.replace,
    )
    house_geoms = [h for h, ok in zip(houses, has_house) if ok and h is not None]
    if house_geoms:
        h_utm = gpd.GeoSeries(house_geoms, crs=SAMPLE_CRS).to_crs(IMAGERY_CRS)
        features.rasterize(((g, roof_id) for g in h_utm), out=ent, transform=t2)
    lane_polys = gpd.GeoSeries(lanes.geometry, crs=SAMPLE_CRS).buffer(2.0).to_crs(IMAGERY_CRS)
    features.rasterize(((g, road_id) for g in lane_polys), out=ent, transform=t2)
    # static within-parcel heterogeneity (tree crowns, gaps); abandoned land is patchier
    het_field = _smooth_noise(rng, shape2, 1.5)
    het_amp = np.full(road_id + 1, 0.05, np.float32)
    for i, c in enumerate(cond):
        het_amp[i] = {"abandoned_shrub": 0.16, "abandoned_orchard": 0.14, "mixed": 0.12,
                      "abandoned_bare": 0.06}.get(c, 0.07)  # fmt: skip
    het_amp[[roof_id, road_id]] = 0.0
    het = het_amp[ent] * het_field  # change of green fraction per sub-pixel
    em_delta = (_EM["veg"] - _EM["soil"]).astype(np.float32)

    dates = _scene_dates(year, n_dates, rng)
    t = _doy(dates)
    traj = np.stack([_trajectory(c, t, rng) for c in cond])  # (n, T, 5)
    bg_traj = np.stack([_trajectory(c, t, rng) for c in bg_classes])
    spectra = np.concatenate(
        [_spectra(traj), _spectra(bg_traj),
         np.broadcast_to(_EM["roof"], (1, len(t), 6)), np.broadcast_to(_EM["road"], (1, len(t), 6))]
    ).astype(np.float32)  # (entities, T, 6)  # fmt: skip

    cloudy_idx = int(np.argmin([abs(d.timetuple().tm_yday - 290) for d in dates]))
    swath_idx = int(np.argmin([abs(d.timetuple().tm_yday - 75) for d in dates]))
    footprint = shapely.geometry.box(minx, miny, maxx, maxy)
    footprint_ll = gpd.GeoSeries([footprint], crs=IMAGERY_CRS).to_crs("EPSG:4326").iloc[0]
    items, files = [], []
    sat = ["sentinel-2a", "sentinel-2b"]
    moves = sensor.displacements(len(dates)) if sensor else np.zeros((len(dates), 2))
    for k, date in enumerate(dates):
        report(progress, k / len(dates), f"scene {date.isoformat()}")
        refl2 = spectra[:, k, :][ent] + het[..., None] * em_delta  # (H2, W2, 6)
        np.clip(refl2, 0.002, 1.0, out=refl2)
        if moves[k].any():
            refl2 = _displace(refl2, *moves[k], step=10 / sub)
        r10 = refl2.reshape(h10, sub, w10, sub, 6).mean(axis=(1, 3))
        r20 = r10.reshape(h10 // 2, 2, w10 // 2, 2, 6).mean(axis=(1, 3))
        if sensor and sensor.psf:  # each band's optics at its own pixel size
            r10, r20 = _blur(r10, sensor.psf), _blur(r20, sensor.psf)
        gain = 1 + rng.normal(0, 0.012)
        r10 = r10 * gain + rng.normal(0, 0.003, r10.shape)
        r20 = r20 * gain + rng.normal(0, 0.002, r20.shape)
        # clouds (20 m), their shadows, and the SCL layer
        frac = 0.97 if k == cloudy_idx else _cloud_fraction(date, rng)
        cfield = _smooth_noise(rng, (h10 // 2, w10 // 2), 8)
        alpha = np.zeros_like(cfield)
        if frac > 0:
            thr = np.quantile(cfield, 1 - frac)
            alpha = np.clip((cfield - thr) * 2.5, 0, 1)
        shadow = np.roll(np.roll(alpha, 7, axis=0), -5, axis=1) * (alpha < 0.05)
        clean_ndvi = (r20[..., 3] - r20[..., 2]) / (r20[..., 3] + r20[..., 2] + 1e-6)
        scl = np.where(clean_ndvi > 0.35, 4, 5).astype(np.uint8)
        scl[(clean_ndvi < 0.0) & (r20[..., 3] < 0.06)] = 6
        scl[rng.random(scl.shape) < 0.01] = 7
        scl[shadow > 0.3] = 3
        scl[(alpha > 0.05) & (alpha <= 0.3)] = 10
        scl[(alpha > 0.3) & (alpha <= 0.7)] = 8
        scl[alpha > 0.7] = 9
        shade = 1 - 0.6 * shadow
        a20, s20 = alpha[..., None], shade[..., None]
        r20 = (r20 * s20) * (1 - a20) + a20 * _EM["cloud"]
        a10 = np.repeat(np.repeat(alpha, 2, 0), 2, 1)[..., None]
        s10 = np.repeat(np.repeat(shade, 2, 0), 2, 1)[..., None]
        r10 = (r10 * s10) * (1 - a10) + a10 * _EM["cloud"]
        baseline = "04.00" if date >= dt.date(2022, 1, 25) else "02.14"
        add = 1000 if baseline >= "04.00" else 0  # DN = reflectance * 10000 - BOA_ADD_OFFSET
        dn10 = np.clip(np.round(r10 * 10000 + add), 1, 65535).astype(np.uint16)
        dn20 = np.clip(np.round(r20 * 10000 + add), 1, 65535).astype(np.uint16)
        if k == swath_idx:  # the swath edge cuts the west of the commune
            cols20 = np.arange(w10 // 2)[None, :] + 0.35 * np.arange(h10 // 2)[:, None]
            off20 = cols20 < 0.38 * (w10 // 2)
            off10 = np.repeat(np.repeat(off20, 2, 0), 2, 1)
            dn10[off10] = 0
            dn20[off20] = 0
            scl[off20] = 0
        cover = float(np.isin(scl, [3, 8, 9, 10]).sum() / max(1, (scl > 0).sum()) * 100)
        scene_id = f"S2{'AB'[k % 2]}_48QWE_{date:%Y%m%d}_0_L2A"
        folder = s2 / scene_id
        folder.mkdir(exist_ok=True)
        assets = {}
        for b, (name, res) in S2_BANDS.items():
            if b == "SCL":
                arr, tr = scl, t20
            elif res == 10:
                arr, tr = dn10[..., ["B02", "B03", "B04", "B08"].index(b)], t10
            else:
                arr, tr = dn20[..., 4 + ["B11", "B12"].index(b)], t20
            path = folder / f"{b}.tif"
            _write_cog(path, np.ascontiguousarray(arr), tr)
            files.append(path)
            band_meta = {"nodata": 0, "data_type": str(arr.dtype), "spatial_resolution": res}
            if b != "SCL":
                band_meta.update(scale=0.0001, offset=-add / 10000)
            assets[name] = {
                "href": f"./{b}.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "title": b,
                "roles": ["data"],
                "eo:bands": [{"name": b}],
                "raster:bands": [band_meta],
                "proj:shape": list(arr.shape),
                "proj:transform": list(tr)[:6],
            }
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": scene_id,
            "geometry": shapely.geometry.mapping(footprint_ll),
            "bbox": list(footprint_ll.bounds),
            "properties": {
                "datetime": f"{date.isoformat()}T03:31:21Z",
                "platform": sat[k % 2],
                "constellation": "sentinel-2",
                "instruments": ["msi"],
                "eo:cloud_cover": round(cover, 2),
                "proj:epsg": 32648,
                "s2:processing_baseline": baseline,
                "s2:mgrs_tile": "48QWE",
                "s2:boa_add_offset": -add,
                "ntmgis:simulated": True,
                **(
                    {
                        "ntmgis:psf_sigma_px": sensor.psf,
                        "ntmgis:displacement_m": [round(float(v), 3) for v in moves[k]],
                    }
                    if sensor
                    else {}
                ),  # fmt: skip
            },
            "assets": assets,
            "links": [],
        }
        (folder / "item.json").write_text(json.dumps(item, ensure_ascii=False, indent=1))
        files.append(folder / "item.json")
        coll_item = json.loads(json.dumps(item))
        for a in coll_item["assets"].values():
            a["href"] = f"./{scene_id}/{Path(a['href']).name}"
        items.append(coll_item)
    (s2 / "items.json").write_text(
        json.dumps({"type": "FeatureCollection", "features": items}, ensure_ascii=False, indent=1)
    )
    files.append(s2 / "items.json")
    return {"dates": dates, "files": files, "grid": f"{w10} x {h10} px at 10 m"}


_CONFIG_HEADER = {
    None: """\
# ntmgis run configuration of the sample commune (written by `ntmgis sample`).
# Run it with `ntmgis run layers/thanh_binh.toml` (or `ntmgis run --sample`).
# Relative paths are relative to this file's folder.
""",
    "followup": """\
# ntmgis run configuration of the sample commune's follow-up campaign ({year}), measured
# against the baseline run ({base_year}, `thanh_binh.toml`, which must run first: it writes
# the baseline GeoPackage named below). `ntmgis run --sample` runs both.
""",
}
_CONFIG_BODY = """
[commune]
name = "Xã Thanh Bình"
year = {year}
place = "Thanh Bình"

[inputs]
parcels = "thanh_binh.gpkg"
parcels_layer = "parcels"
hamlets = "thanh_binh.gpkg"
hamlets_layer = "hamlets"
survey = "{survey}"
imagery = "{imagery}"
targets = "{targets}"
{baseline}
[imagery]
period = "{year}-01-01:{year}-12-31"
indices = {indices}

[flags]
calibration = "auto"

[outputs]
dir = "{out}"
name = "{name}"
maps = true
map_theme = "flag"
paper = "A4"
report = true
"""


def _sample_config_text(year: int, base_year: int, followup: bool) -> str:
    """The run config of the baseline campaign, or of a follow-up measured against it."""
    from .features import DEFAULT_INDICES  # the indices the model's features need

    header = _CONFIG_HEADER["followup" if followup else None]
    # the baseline campaign's survey and targets are named by its year (sample_paths)
    fields = {"year": year, "base_year": base_year, "survey": f"survey_{base_year}.xlsx",
              "targets": f"targets_{base_year}.csv", "imagery": "s2", "baseline": "",
              "out": "../out",
              "name": STEM,
              "indices": json.dumps(list(DEFAULT_INDICES))}  # fmt: skip
    if followup:
        fields.update(
            survey=f"survey_{year}.xlsx", imagery=f"s2_{year}",
            baseline=f'baseline = "../out/{STEM}.gpkg"\n', out=f"../out/theo_doi_{year}",
            name=f"{STEM}_{year}",
        )  # fmt: skip
    return header.format(**fields) + _CONFIG_BODY.format(**fields)


_FOLLOWUP_README = """\
A follow-up campaign of {followup_year} (Step 5: checking progress) is written beside it:
`survey_{followup_year}.xlsx`/`.csv` (same layout and kinds of defects), `s2_{followup_year}/` \
({followup_scenes} dates from {followup_first} to {followup_last}; scenes from 25 January 2022 \
on have processing baseline 04.00 and BOA_ADD_OFFSET = -1000, so DN = reflectance × 10000 \
+ 1000), `truth/parcels_truth_{followup_year}.csv` (with `condition_before`, the baseline's \
condition) and `truth/survey_defects_{followup_year}.csv`, and the run config \
`thanh_binh_{followup_year}.toml`, which measures it against the baseline run. Between the \
campaigns each hamlet renovated a share of its abandoned gardens at its own pace \
({renovated} in all; {followup_abandoned} gardens are abandoned in {followup_year}), a few \
mixed or tended gardens were abandoned, and the targets of `targets_{base_year}.csv` apply."""


_SENSOR_README = """
## The sensor

The scenes are not box pixels exactly registered: every band is blurred by a Gaussian
optical point-spread function of {psf:g} pixel, and each scene is displaced at random by
{misregistration:g} m (standard deviation, per axis) from where its georeferencing puts
it; `ntmgis:displacement_m` in each scene's `item.json` records the displacement (east,
north, metres). With the same seed, the commune, the survey, the truth and the clouds are
those of the exactly registered sample.
"""


def _write_readme(root: Path, result: SampleCommune, seed: int) -> None:
    text = (resources.files("ntmgis") / "data" / "sample_README.md").read_text(encoding="utf-8")
    c = dict(result.counts)
    if c.get("followup_year"):
        c["followup"] = _FOLLOWUP_README.format(**c)
    else:
        c["followup"] = "No follow-up campaign was written (`--no-followup`)."
    text = text.format(seed=seed, **c)
    if c.get("psf") or c.get("misregistration"):
        text += _SENSOR_README.format(**c)
    sample_paths(root, base_year=c["base_year"])["readme"].write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- run configs


def sample_config(
    layers: str | os.PathLike = "layers",
    *,
    out: str | os.PathLike = "out",
    followup: int | None = None,
):
    """The run configuration of the sample commune in ``layers``.

    Parameters
    ----------
    layers : str or os.PathLike, default "layers"
        Folder holding the sample commune.
    out : str or os.PathLike, default "out"
        Output folder of the baseline run. A follow-up run writes to
        ``out/theo_doi_<year>`` and takes ``out/thanh_binh.gpkg`` as its baseline.
    followup : int, optional
        Year of the follow-up campaign (``layers/thanh_binh_<year>.toml``); default the
        baseline campaign (``layers/thanh_binh.toml``).

    Returns
    -------
    RunConfig
        Validated; raises an error naming the file when the sample is incomplete or the
        baseline run has not been made.
    """
    from .config import load_config, read_toml
    from .errors import ConfigError, DataNotFoundError

    path = sample_paths(layers, followup=followup)["config"]
    if not path.is_file():
        raise DataNotFoundError(_say("error.sample.no_config", path=path, layers=layers))
    out = Path(out).resolve()
    baseline = out / f"{STEM}.gpkg"
    if followup is not None and not baseline.is_file():
        raise ConfigError(_say("error.sample.no_baseline", year=followup, baseline=baseline))
    raw = read_toml(path)
    raw.setdefault("inputs", {})
    raw.setdefault("outputs", {})
    if followup is not None:
        raw["inputs"]["baseline"] = str(baseline)
        raw["outputs"]["dir"] = str(out / f"theo_doi_{followup}")
    else:
        raw["outputs"]["dir"] = str(out)
    return load_config(raw, base=path.parent)


# --------------------------------------------------------------------------- a province


def make_province(
    root,
    *,
    communes: int = 125,
    parcels: int = 1600,
    dates: int = 12,
    seed: int = 1,
    client=None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Write a synthetic province: many sample communes and a province config.

    Each commune is :func:`ntmgis.sample.make_sample` with its own seed (so its own
    hamlets, parcels, survey and imagery; the outline is the sample's; a seed whose
    hamlets lack room for their parcels is replaced by the next one), written to
    ``root/xa_NNN/`` with its config named "Xã mô phỏng NNN". Communes already written
    with the same settings are kept, so a second call is quick.

    Parameters
    ----------
    root : str or os.PathLike
        Folder of the province.
    communes : int, default 125
        Number of communes (125 x 1,600 = 200,000 parcels).
    parcels : int, default 1600
        Parcels per commune.
    dates : int, default 12
        Sentinel-2 dates per commune (at least 12).
    seed : int, default 1
        Commune ``k`` uses seed ``seed + k``.
    client : distributed.Client, optional
        Write the communes as tasks on this cluster (the workers must see ``root``).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    pathlib.Path
        The province config ``root/province.toml`` (outputs to ``root/out``, maps and
        report off).
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    todo = []
    for k in range(1, communes + 1):
        folder = root / f"xa_{k:03d}"
        stamp = f"{seed + k} {parcels} {dates}"
        marker = folder / ".ntmgis_province"
        if not (marker.is_file() and marker.read_text() == stamp):
            todo.append((folder, seed + k, parcels, dates, k, stamp))
    if client is not None and todo:
        futures = [client.submit(_make_commune, *args, pure=False) for args in todo]
        for n, _ in enumerate(futures):
            futures[n].result()
            report(progress, (n + 1) / len(todo), "communes")
    else:
        for n, args in enumerate(todo):
            _make_commune(*args)
            report(progress, (n + 1) / len(todo), f"commune {args[4]}")
    from ._io import atomic_path

    toml = root / "province.toml"
    text = (
        "# A synthetic province written by ntmgis.sample.make_province.\n"
        "[province]\n"
        f'name = "Tỉnh mô phỏng ({communes} xã)"\n'
        'communes = ["xa_*/thanh_binh.toml"]\n'
        'out_dir = "out"\n'
        "maps = false\n"
        "report = false\n"
    )
    with atomic_path(toml, what="province config") as tmp:
        tmp.write_text(text, encoding="utf-8")
    for extra in sorted(root.glob("xa_*")):  # communes of an earlier, larger province
        if extra.is_dir() and int(extra.name[3:]) > communes:
            (extra / "thanh_binh.toml").unlink(missing_ok=True)
            (extra / ".ntmgis_province").unlink(missing_ok=True)
    return toml


def _make_commune(folder: Path, seed: int, parcels: int, dates: int, k: int, stamp: str):
    import warnings

    for attempt in range(5):  # a seed whose hamlets have no room for their quota: next one
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                make_sample(folder, seed=seed + 100_003 * attempt, n_parcels=parcels,
                            n_dates=dates, followup_year=None)  # fmt: skip
            break
        except _NoRoomError:
            if attempt == 4:
                raise
            logger.info("%s: seed %d has no room for %d parcels, next seed", folder,
                        seed + 100_003 * attempt, parcels)  # fmt: skip
    config = folder / "thanh_binh.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('name = "Xã Thanh Bình"', f'name = "Xã mô phỏng {k:03d}"', 1)
    config.write_text(text, encoding="utf-8")
    (folder / ".ntmgis_province").write_text(stamp)
    return str(folder)
