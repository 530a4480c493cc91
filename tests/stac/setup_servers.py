"""Build the test catalogues and start every server: the one entry point of the fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import build
from .servers import BadServer, Nginx, Postgres, StacApi

#: dates whose items are broken on purpose (kept out of the 2020 period)
BROKEN_DATES = {"missing_key": "2019-12-20", "missing_file": "2019-12-25"}


@dataclass
class Servers:
    root: Path
    facts: dict = field(default_factory=dict)
    pg: Postgres | None = None
    es: StacApi | None = None
    pc: StacApi | None = None
    nginx: Nginx | None = None
    bad: BadServer | None = None

    def stop(self):
        for part in (self.bad, self.es, self.pc, self.nginx, self.pg):
            if part is None:
                continue
            try:
                part.stop()
            except Exception:  # stop the others whatever one does
                pass


def _broken_items(facts, base_url):
    """Two 2019 items: one without its scl asset key, one whose swir16 file is missing."""
    scene = sorted(facts)[0]
    out = []
    for kind, date in BROKEN_DATES.items():
        item = build.earth_search_item(
            scene,
            facts[scene],
            base_url,
            drop=("scl",) if kind == "missing_key" else (),
            broken=("swir16",) if kind == "missing_file" else (),
        )
        item["id"] = f"S2A_48QWE_{date.replace('-', '')}_0_L2A"
        item["properties"]["datetime"] = f"{date}T03:31:21Z"
        out.append(item)
    return out


def _adjacent_tiles(facts, base_url, commune_wgs84):
    """2019-11-15 from two MGRS tiles of one grid, each covering half of the commune (their
    assets are one scene's files; only the footprints differ)."""
    from shapely.geometry import box, mapping

    scene = sorted(facts)[0]
    w, s, e, n = commune_wgs84.bounds
    mid = (w + e) / 2
    out = []
    for tile, (x0, x1) in (("48QWE", (w - 0.2, mid)), ("48QXE", (mid, e + 0.2))):
        item = build.earth_search_item(scene, facts[scene], base_url)
        item["id"] = f"S2A_{tile}_20191115_0_L2A"
        item["properties"]["datetime"] = "2019-11-15T03:31:21Z"
        item["geometry"] = mapping(box(x0, s - 0.2, x1, n + 0.2))
        out.append(build.with_bbox(item))
    return out


def start(root: Path, limit: int | None = None) -> Servers:
    """Build the catalogues (all sample dates, or the first ``limit``) and start the servers."""
    servers = Servers(root)
    try:
        docroot = root / "www"
        servers.facts = build.build_assets(docroot, limit)
        servers.nginx = Nginx(root / "nginx", docroot)
        servers.nginx.start()
        base = servers.nginx.url
        facts = servers.facts
        es_items = [build.with_bbox(build.earth_search_item(s, facts[s], base)) for s in facts]
        es_items += [build.with_bbox(i) for i in _broken_items(facts, base)]
        import geopandas as gpd

        commune = gpd.read_file(build.ROOT / "layers" / "thanh_binh.gpkg", layer="commune")
        es_items += _adjacent_tiles(facts, base, commune.to_crs(4326).union_all())
        first = sorted(facts)[0]
        es_items.append(build.other_zone_copy(docroot, first, facts[first], base))
        if limit is None:
            es_items += build.landsat_items(docroot, facts, base)
        pc_items = [build.with_bbox(build.planetary_item(s, facts[s], base)) for s in facts]
        servers.pg = Postgres()
        servers.pg.start()
        servers.pg.load_pgstac(
            "earthsearch",
            [
                build.collection("sentinel-2-l2a", "Sentinel-2 Level-2A"),
                build.collection("landsat-c2-l2", "Landsat Collection 2 Level-2"),
            ],
            es_items,
        )
        servers.pg.load_pgstac(
            "planetary",
            [build.collection("sentinel-2-l2a", "Sentinel-2 Level-2A")],
            pc_items,
        )
        servers.es = StacApi(root, servers.pg, "earthsearch")
        servers.pc = StacApi(root, servers.pg, "planetary")
        servers.es.start()
        servers.pc.start()
        servers.bad = BadServer(servers.es.url)
        servers.bad.start()
    except BaseException:
        servers.stop()
        raise
    return servers
