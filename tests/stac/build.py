"""Test catalogue content: COGs larger than the commune, items in two catalogues' conventions.

The sample commune's scenes (``layers/s2``, 276 x 318 px) are embedded in a grid of
1536 x 1536 px at 10 m (768 x 768 at 20 m), the padding mirrored from the scene itself so
that it compresses like real data; tiles of 256 px and overviews, as GDAL's COG driver
writes them. Item JSON follows Earth Search v1 (``blue`` ... ``scl``,
``earthsearch:boa_offset_applied``) and Planetary Computer (``B02`` ... ``SCL``,
``platform: Sentinel-2A``) as seen in their public items (see tests/data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
S2 = ROOT / "layers" / "s2"
PAD10 = 600  # pixels of padding on each side at 10 m
SIZE10 = 1536
ES_KEYS = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B11": "swir16",
    "B12": "swir22",
    "SCL": "scl",
}
COMMON = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B11": "swir16",
    "B12": "swir22",
}


def _padded(src: Path, dst: Path, res: float) -> dict:
    import rasterio
    from affine import Affine

    factor = int(round(res / 10))
    pad = PAD10 // factor
    size = SIZE10 // factor
    with rasterio.open(src) as ds:
        data = ds.read(1)
        t = ds.transform
        nodata = ds.nodata
        crs = ds.crs
    h, w = data.shape
    big = np.pad(data, ((pad, size - h - pad), (pad, size - w - pad)), mode="symmetric")
    transform = Affine(t.a, 0.0, t.c - pad * t.a, 0.0, t.e, t.f - pad * t.e)
    dst.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "COG",
        "dtype": data.dtype.name,
        "count": 1,
        "width": size,
        "height": size,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "DEFLATE",
        "blocksize": 256,
        "level": 1,
    }
    with rasterio.open(dst, "w", **profile) as out:
        out.write(big, 1)
    return {
        "proj:shape": [size, size],
        "proj:transform": list(transform)[:6],
        "crs": crs,
        "bounds": (
            transform.c,
            transform.f + transform.e * size,
            transform.c + transform.a * size,
            transform.f,
        ),
    }


def build_assets(root: Path, limit: int | None = None) -> dict[str, dict]:
    """Write the padded COGs under ``root/s2/<scene>/`` once; return per scene its facts.

    ``limit``: only the first scenes (by date), for the QGIS tests."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = []
    facts = {}
    folders = sorted((f for f in S2.iterdir() if f.is_dir()), key=lambda f: f.name.split("_")[2])
    for folder in folders[:limit]:
        item = json.loads((folder / "item.json").read_text(encoding="utf-8"))
        facts[folder.name] = {"item": item, "bands": {}}
        for band in ES_KEYS:
            res = 20.0 if band in ("B11", "B12", "SCL") else 10.0
            dst = root / "s2" / folder.name / f"{band}.tif"
            jobs.append((folder.name, band, folder / f"{band}.tif", dst, res))

    def one(job):
        scene, band, src, dst, res = job
        return scene, band, {**_padded(src, dst, res), "res": res, "path": dst}

    with ThreadPoolExecutor(max_workers=2) as pool:  # GDAL writes without the GIL
        for scene, band, info in pool.map(one, jobs):
            facts[scene]["bands"][band] = info
    return facts


def _footprint(crs, bounds) -> dict:
    from pyproj import Transformer
    from shapely.geometry import box, mapping

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    left, bottom, right, top = bounds
    xs, ys = tr.transform([left, right, right, left], [bottom, bottom, top, top])
    return mapping(box(min(xs), min(ys), max(xs), max(ys)))


def _raster_bands(band: str, res: float) -> list[dict]:
    if band == "SCL":
        return [{"nodata": 0, "data_type": "uint8", "spatial_resolution": res, "unit": "none"}]
    return [
        {
            "nodata": 0,
            "data_type": "uint16",
            "spatial_resolution": res,
            "scale": 0.0001,
            "offset": 0,
        }
    ]


def earth_search_item(scene: str, facts: dict, base_url: str, *, drop=(), broken=()) -> dict:
    """An item as Earth Search v1 writes it (sentinel-2-l2a)."""
    src = facts["item"]
    props = src["properties"]
    b02 = facts["bands"]["B02"]
    tile = props.get("s2:mgrs_tile", "48QWE")
    assets = {}
    for band, key in ES_KEYS.items():
        if key in drop:
            continue
        info = facts["bands"][band]
        name = "missing.tif" if key in broken else f"{band}.tif"
        asset = {
            "href": f"{base_url}/s2/{scene}/{name}",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{key.capitalize()} - {int(info['res'])}m",
            "proj:shape": info["proj:shape"],
            "proj:transform": info["proj:transform"],
            "raster:bands": _raster_bands(band, info["res"]),
            "roles": ["data", "reflectance"] if band != "SCL" else ["data"],
        }
        if band in COMMON:
            asset["eo:bands"] = [{"name": band, "common_name": COMMON[band]}]
        assets[key] = asset
    assets["thumbnail"] = {
        "href": f"{base_url}/s2/{scene}/preview.jpg",
        "type": "image/jpeg",
        "roles": ["thumbnail"],
    }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
        ],
        "id": scene,
        "collection": "sentinel-2-l2a",
        "geometry": _footprint(b02["crs"], b02["bounds"]),
        "bbox": None,
        "properties": {
            "datetime": props["datetime"],
            "platform": props["platform"],
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "eo:cloud_cover": props.get("eo:cloud_cover", 0.0),
            "proj:epsg": 32648,
            "mgrs:utm_zone": int(tile[:2]),
            "mgrs:latitude_band": tile[2],
            "mgrs:grid_square": tile[3:],
            "s2:processing_baseline": props["s2:processing_baseline"],
            "s2:product_uri": f"{scene}.SAFE",
            "earthsearch:boa_offset_applied": False,
            "earthsearch:s3_path": f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{scene}",
        },
        "links": [],
        "assets": assets,
    }


def planetary_item(scene: str, facts: dict, base_url: str) -> dict:
    """An item as the Planetary Computer writes it (sentinel-2-l2a): B02 ... SCL keys."""
    src = facts["item"]
    props = src["properties"]
    date = props["datetime"][:10].replace("-", "")
    tile = props.get("s2:mgrs_tile", "48QWE")
    baseline = props["s2:processing_baseline"].replace(".", "")
    pc_id = f"{scene[:3]}_MSIL2A_{date}T033121_R018_T{tile}_{date}T120000"
    b02 = facts["bands"]["B02"]
    assets = {}
    for band in ES_KEYS:
        info = facts["bands"][band]
        asset = {
            "href": f"{base_url}/s2/{scene}/{band}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"Band {band} - {int(info['res'])}m",
            "gsd": info["res"],
            "proj:shape": info["proj:shape"],
            "proj:transform": info["proj:transform"],
            "roles": ["data"],
        }
        if band in COMMON:
            asset["eo:bands"] = [{"name": band, "common_name": COMMON[band]}]
        assets[band] = asset
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
        ],
        "id": pc_id,
        "collection": "sentinel-2-l2a",
        "geometry": _footprint(b02["crs"], b02["bounds"]),
        "bbox": None,
        "properties": {
            "datetime": props["datetime"].replace("Z", ".024000Z"),
            "platform": "Sentinel-" + props["platform"][-2:].upper(),
            "proj:epsg": 32648,
            "instruments": ["msi"],
            "s2:mgrs_tile": tile,
            "constellation": "Sentinel 2",
            "eo:cloud_cover": props.get("eo:cloud_cover", 0.0),
            "s2:product_uri": f"{scene[:3]}_MSIL2A_{date}T033121_N{baseline}_R018_T{tile}.SAFE",
            "s2:product_type": "S2MSI2A",
            "s2:processing_baseline": props["s2:processing_baseline"],
        },
        "links": [],
        "assets": assets,
    }


def collection(cid: str, title: str) -> dict:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": cid,
        "title": title,
        "description": f"{title} (test copy on 127.0.0.1)",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[100.0, 8.0, 112.0, 24.0]]},
            "temporal": {"interval": [["2015-06-27T00:00:00Z", None]]},
        },
        "links": [],
    }


def with_bbox(item: dict) -> dict:
    from shapely.geometry import shape

    item["bbox"] = list(shape(item["geometry"]).bounds)
    return item


def other_zone_copy(root: Path, scene: str, facts: dict, base_url: str) -> dict:
    """The same date seen from UTM 49N (EPSG:32649): the scene warped there (test data
    only, nearest neighbour), as an item of a neighbouring MGRS tile."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    new_id = scene.replace("48QWE", "49QAE")
    item = earth_search_item(scene, facts, base_url)
    item["id"] = new_id
    item["properties"]["proj:epsg"] = 32649
    item["properties"]["mgrs:utm_zone"] = 49
    item["properties"]["mgrs:grid_square"] = "AE"
    for band, key in ES_KEYS.items():
        src_path = S2 / scene / f"{band}.tif"
        dst_path = root / "s2" / new_id / f"{band}.tif"
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        with rasterio.open(src_path) as src:
            transform, width, height = calculate_default_transform(
                src.crs, "EPSG:32649", src.width, src.height, *src.bounds, resolution=src.res
            )
            profile = {
                "driver": "COG",
                "dtype": src.dtypes[0],
                "count": 1,
                "width": width,
                "height": height,
                "crs": "EPSG:32649",
                "transform": transform,
                "nodata": src.nodata,
                "compress": "DEFLATE",
                "blocksize": 256,
            }
            data = np.zeros((height, width), dtype=src.dtypes[0])
            reproject(
                src.read(1),
                data,
                src_transform=src.transform,
                src_crs=src.crs,
                dst_transform=transform,
                dst_crs="EPSG:32649",
                resampling=Resampling.nearest,
            )
            with rasterio.open(dst_path, "w", **profile) as dst:
                dst.write(data, 1)
        asset = item["assets"][key]
        asset["href"] = f"{base_url}/s2/{new_id}/{band}.tif"
        asset["proj:shape"] = [height, width]
        asset["proj:transform"] = list(transform)[:6]
        if band == "B02":
            bounds = (
                transform.c,
                transform.f + transform.e * height,
                transform.c + transform.a * width,
                transform.f,
            )
            item["geometry"] = _footprint("EPSG:32649", bounds)
    return with_bbox(item)


LANDSAT_DATES = {  # a Landsat 8 overpass two days after two sample dates
    "S2B_48QWE_20200318_0_L2A": "2020-03-20",
    "S2B_48QWE_20200427_0_L2A": "2020-04-29",
}
_LS_BANDS = {
    "blue": "B02",
    "green": "B03",
    "red": "B04",
    "nir08": "B08",
    "swir16": "B11",
    "swir22": "B12",
}


def _qa_from_scl(scl: np.ndarray) -> np.ndarray:
    """QA_PIXEL bits from SCL classes: fill, cloud, shadow, cirrus, clear (C2 L2 layout)."""
    qa = np.full(scl.shape, 1 << 6, dtype=np.uint16)  # clear
    qa[np.isin(scl, (8, 9))] = (1 << 3) | (1 << 1)  # cloud, dilated cloud
    qa[scl == 3] = 1 << 4  # cloud shadow
    qa[scl == 10] = 1 << 2  # cirrus
    qa[scl == 6] = (1 << 6) | (1 << 7)  # clear water
    qa[scl == 0] = 1  # fill
    return qa


def landsat_items(root: Path, facts: dict, base_url: str) -> list[dict]:
    """Landsat 8 C2 L2 items (30 m, QA_PIXEL) made from two sample dates: surface
    reflectance averaged to 30 m, DN = (reflectance + 0.2) / 0.0000275, padded to 15 km."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    items = []
    for scene, date in LANDSAT_DATES.items():
        ls_id = f"LC08_L2SP_125047_{date.replace('-', '')}_20200822_02_T1"
        with rasterio.open(S2 / scene / "B02.tif") as ref:
            crs, t = ref.crs, ref.transform
            w30 = int(np.ceil(ref.width / 3))
            h30 = int(np.ceil(ref.height / 3))
        pad, size = 80, 512
        t30 = Affine(30.0, 0.0, t.c, 0.0, -30.0, t.f)
        big_t = Affine(30.0, 0.0, t.c - pad * 30.0, 0.0, -30.0, t.f + pad * 30.0)
        assets = {}
        for key, band in {**_LS_BANDS, "qa_pixel": "SCL"}.items():
            with rasterio.open(S2 / scene / f"{band}.tif") as src:
                data = src.read(1)
                if key == "qa_pixel":
                    out = np.zeros((h30, w30), dtype=np.uint8)
                    reproject(data, out, src_transform=src.transform, src_crs=src.crs,
                              dst_transform=t30, dst_crs=crs, resampling=Resampling.mode,
                              src_nodata=None, dst_nodata=None)  # fmt: skip
                    arr = _qa_from_scl(out)
                    nodata = 1
                else:
                    refl = np.where(data > 0, data / 10000.0, np.nan).astype(np.float32)
                    out = np.full((h30, w30), np.nan, dtype=np.float32)
                    reproject(refl, out, src_transform=src.transform, src_crs=src.crs,
                              dst_transform=t30, dst_crs=crs, resampling=Resampling.average,
                              src_nodata=np.nan, dst_nodata=np.nan)  # fmt: skip
                    dn = np.round((out + 0.2) / 0.0000275)
                    arr = np.where(np.isfinite(dn), dn, 0).astype(np.uint16)
                    nodata = 0
            big = np.pad(arr, ((pad, size - h30 - pad), (pad, size - w30 - pad)), mode="symmetric")
            path = root / "landsat" / ls_id / f"{ls_id}_{key.upper()}.TIF"
            path.parent.mkdir(parents=True, exist_ok=True)
            profile = {
                "driver": "COG", "dtype": "uint16", "count": 1, "width": size, "height": size,
                "crs": crs, "transform": big_t, "nodata": nodata, "compress": "DEFLATE",
                "blocksize": 256,
            }  # fmt: skip
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(big, 1)
            asset = {
                "href": f"{base_url}/landsat/{ls_id}/{path.name}",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "proj:shape": [size, size],
                "proj:transform": list(big_t)[:6],
                "roles": ["data"] if key != "qa_pixel" else ["cloud", "cloud-shadow", "snow-ice"],
            }
            if key != "qa_pixel":
                asset["raster:bands"] = [
                    {"nodata": 0, "data_type": "uint16", "scale": 2.75e-05, "offset": -0.2}
                ]
                asset["eo:bands"] = [{"name": key.upper(), "common_name": key}]
            assets[key] = asset
        bounds = (big_t.c, big_t.f - 30.0 * size, big_t.c + 30.0 * size, big_t.f)
        items.append(
            with_bbox(
                {
                    "type": "Feature",
                    "stac_version": "1.0.0",
                    "stac_extensions": [
                        "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                        "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                        "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                    ],
                    "id": ls_id,
                    "collection": "landsat-c2-l2",
                    "geometry": _footprint(crs, bounds),
                    "bbox": None,
                    "properties": {
                        "datetime": f"{date}T03:20:11.123456Z",
                        "platform": "landsat-8",
                        "instruments": ["oli", "tirs"],
                        "eo:cloud_cover": 10.0,
                        "proj:epsg": 32648,
                        "landsat:wrs_path": "125",
                        "landsat:wrs_row": "047",
                        "landsat:collection_category": "T1",
                        "landsat:correction": "L2SP",
                    },
                    "links": [],
                    "assets": assets,
                }
            )
        )
    return items
