"""Write the analysts' notebooks of ``notebooks/`` from the cells below.

The notebooks are generated, so they stay reviewable (this file is plain Python) and
regenerable: edit a cell here, then run

    python notebooks/make_notebooks.py

which rewrites ``notebooks/0*.ipynb`` without outputs (``tests/test_notebooks_clean.py``
checks that the committed notebooks are what this script writes). No dependency beyond the
standard library: the JSON is nbformat 4.5.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}


def md(text: str) -> tuple[str, str]:
    """A markdown cell."""
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> tuple[str, str]:
    """A code cell."""
    return ("code", textwrap.dedent(text).strip("\n"))


def notebook(stem: str, cells: list[tuple[str, str]]) -> dict:
    """The nbformat 4.5 JSON of a notebook without outputs."""
    out = []
    for i, (kind, source) in enumerate(cells):
        lines = source.splitlines(keepends=True)
        cell = {"cell_type": kind, "id": f"{stem[:2]}-{i:02d}", "metadata": {}, "source": lines}
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        out.append(cell)
    return {"cells": out, "metadata": KERNEL, "nbformat": 4, "nbformat_minor": 5}


def dumps(nb: dict) -> str:
    """Serialise like Jupyter does (indent 1, UTF-8 text, trailing newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


SETUP = """
    from pathlib import Path

    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    import ntmgis

    LAYERS = Path("../layers")  # the sample commune, Xã Thanh Bình (simulated)
    OUT = Path("out/{stem}")  # outputs of this notebook (git ignores notebooks/out/)
    OUT.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.max_columns", 30, "display.width", 140)
    print("ntmgis", ntmgis.__version__)
"""


def setup(stem: str) -> tuple[str, str]:
    """The first code cell of every notebook."""
    return code(SETUP.replace("{stem}", stem))


# --------------------------------------------------------------------------- 01
NB01 = [
    md("""
    # 1 · Quickstart: from parcels to abandoned gardens (vườn hoang hóa)

    This notebook runs the whole chain of **ntmgis** on the sample commune in `../layers`,
    *Xã Thanh Bình* (a simulated commune: the hamlets, households, survey and imagery are
    made up; only the outline is a real commune of Hà Tĩnh):

    1. the cadastral parcels (**thửa đất**: số tờ + số thửa, loại đất ONT, CLN, HNK...),
    2. the Step 2 garden survey (**khảo sát, phân loại vườn hộ**: vườn mẫu, vườn đạt chuẩn,
       vườn đã cải tạo, vườn tạp, vườn hoang hóa), joined to the parcels,
    3. a year of Sentinel-2 images, masked for clouds, summarised per parcel with exact
       pixel coverage,
    4. a flag per garden (**hoang hóa** abandoned, **nghi vấn** suspected, **bình thường**
       tended, **thiếu dữ liệu** too few clear images), calibrated on the survey,
    5. the survey checked against the imagery: the field-visit list (**hộ cần kiểm tra**),
    6. each hamlet (**thôn**) measured against its targets (**chỉ tiêu**) and ranked,
    7. the outputs: one GeoPackage for QGIS, an XLSX report, printed hamlet maps (PDF).

    Everything goes through the public API (`import ntmgis`). The outputs go to
    `notebooks/out/01_quickstart/`.
    """),
    setup("01_quickstart"),
    md("""
    ## The run configuration

    A run is described by a small TOML file (inputs, imagery period and indices, outputs).
    `ntmgis.sample_config` reads the sample's own file and points its outputs at `OUT`; for
    your commune, copy `layers/thanh_binh.toml`, edit the paths and call
    `ntmgis.load_config("xa_cua_ban.toml")` (or pass the path straight to `ntmgis.run`).
    """),
    code("""
    print((LAYERS / "thanh_binh.toml").read_text(encoding="utf-8"))
    cfg = ntmgis.sample_config(LAYERS, out=OUT)
    print("parcels:", cfg.parcels.name, "| survey:", cfg.survey.name, "| imagery:", cfg.imagery)
    """),
    md("""
    ## Run it

    `ntmgis.run` takes about 20 seconds here. Like every long function of the library it
    accepts `progress=callback(fraction, message)`; returning `False` from the callback
    cancels the run without leaving half-written files.
    """),
    code("""
    seen = set()


    def show_progress(fraction, message):
        step = int(fraction * 10)
        if step not in seen:
            seen.add(step)
            print(f"{fraction:4.0%}  {message}")


    result = ntmgis.run(cfg, progress=show_progress)
    print(result.summary())
    """),
    md("""
    ## The result table: one row per parcel

    `result.parcels` is a GeoDataFrame with **every** input parcel (none is dropped): its
    keys, the survey class it was given (`survey_class`), the flag from the imagery
    (`flag`, with a score and the reasons in Vietnamese and English), how many clear
    observations the flag rests on (`clear_obs`), how many Sentinel-2 pixels the parcel
    covers (`pixels`, weighted by the share of each pixel inside it), and whether the
    survey and the imagery agree (`agreement`, `visit`). Rice (LUC) and pond (NTS) parcels
    are not gardens and get no flag.
    """),
    code("""
    parcels = result.parcels
    columns = ["parcel_id", "hamlet", "owner", "land_use", "area_m2", "survey_class", "flag",
               "flag_score", "clear_obs", "pixels", "agreement", "visit"]
    parcels[columns].head(10)
    """),
    md("""
    The same keys everywhere: `ntmgis.get_theme` gives the legend labels (Vietnamese and
    English) and colours the maps, the QGIS styles and the reports use.
    """),
    code("""
    flag_theme = ntmgis.get_theme("flag")
    gardens = parcels[parcels["is_garden"]]
    counts = pd.crosstab(gardens["hamlet"], gardens["flag"], margins=True, margins_name="Tổng")
    counts = counts.rename(columns=flag_theme.labels("vi"))
    counts
    """),
    md("""
    Why is a garden flagged? The rules say what they saw, and the calibrated model adds its
    probability. (`flag_reasons` is the Vietnamese text printed on the maps.)
    """),
    code("""
    abandoned = gardens[gardens["flag"] == "hoang_hoa"].sort_values("flag_score", ascending=False)
    for _, row in abandoned.head(3).iterrows():
        print(f"{row.parcel_id} ({row.hamlet}, {row.owner}):")
        print("   vi:", row.flag_reasons)
        print("   en:", row.flag_reasons_en)
    """),
    md("""
    How the flags were decided: with enough survey labels the flags come from a classifier
    calibrated on this commune's survey, with cross-validation grouped by hamlet (notebook 3
    looks inside); otherwise from the transparent rules alone.
    """),
    code("""
    print(result.calibration.summary())
    """),
    md("""
    ## The field-visit list (danh sách hộ cần kiểm tra)

    A garden needs a visit when the survey and the imagery disagree (e.g. reported
    *vườn tạp* but the imagery sees abandonment, or reported *đã cải tạo* with no change
    seen) or when the flag is *nghi vấn*.
    """),
    code("""
    agreement_theme = ntmgis.get_theme("agreement")
    visits = gardens[gardens["visit"]]
    print(len(visits), "gardens to visit")
    visits["agreement"].map(lambda k: agreement_theme[k].label("en")).value_counts()
    """),
    code("""
    visits[["parcel_id", "hamlet", "owner", "survey_class", "flag", "flag_reasons"]].head(8)
    """),
    md("""
    ## Hamlets (thôn)

    `result.hamlets` holds the boundaries with the counts, and, since the sample has
    targets (`targets_2020.csv`), each hamlet's status, score and rank
    (notebook 4 goes further).
    """),
    code("""
    pd.DataFrame(result.hamlets.drop(columns="geometry"))
    """),
    md("""
    ## An interactive map

    `GeoDataFrame.explore` (folium) opens the gardens on a web map; hover a parcel to see
    its keys and flag. The background tiles load in your browser when you are online; the
    parcels are in the notebook itself.
    """),
    code("""
    keys = [k for k in flag_theme.keys if k in set(gardens["flag"])]
    web = gardens[["parcel_id", "hamlet", "owner", "survey_class", "flag", "flag_score",
                   "clear_obs", "geometry"]].copy()
    web["flag"] = pd.Categorical(web["flag"], categories=keys)
    web.explore(
        column="flag",
        categorical=True,
        cmap=[flag_theme[k].color for k in keys],
        tooltip=["parcel_id", "hamlet", "owner", "survey_class", "flag", "flag_score", "clear_obs"],
        style_kwds={"weight": 0.5, "color": "#555555", "fillOpacity": 0.8},
        legend_kwds={"caption": flag_theme.title_en},
    )
    """),
    md("""
    ## A static map

    The same colours with matplotlib, in the parcels' own CRS (VN-2000 / 3-degree TM,
    central meridian 105°30', EPSG:9209). Non-garden parcels are white, hamlet boundaries
    black.
    """),
    code("""
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(8, 9))
    key = parcels["flag"].where(parcels["is_garden"], "khong_phai_vuon").fillna("thieu_du_lieu")
    handles = []
    for category in flag_theme.categories:
        part = parcels[key == category.key]
        if len(part):
            part.plot(ax=ax, color=category.color, hatch=category.hatch, edgecolor="#555555",
                      linewidth=0.1)
            handles.append(Patch(facecolor=category.color, edgecolor="#555555",
                                 hatch=category.hatch,
                                 label=f"{category.label('vi')} ({len(part)})"))
    result.hamlets.boundary.plot(ax=ax, color="black", linewidth=1)
    for _, hamlet in result.hamlets.iterrows():
        p = hamlet.geometry.representative_point()
        ax.annotate(hamlet["hamlet"], (p.x, p.y), ha="center", fontsize=8, weight="bold")
    ax.legend(handles=handles, loc="lower left", fontsize=8, title=flag_theme.title_vi)
    ax.set_title("Xã Thanh Bình: vườn hoang hóa theo ảnh Sentinel-2 (2020)")
    ax.set_axis_off()
    plt.show()
    """),
    md("""
    ## How good is it? (the sample only)

    The sample commune is simulated, so its true condition is known
    (`layers/truth/parcels_truth.csv`). **Only an evaluation reads it, never the
    pipeline.** On a real commune there is no truth file: the survey and the field visits
    are what you have.
    """),
    code("""
    evaluation = ntmgis.evaluate(parcels, LAYERS / "truth" / "parcels_truth.csv")
    print(evaluation.summary())
    """),
    md("""
    ## The files written

    Open the GeoPackage in QGIS (the styles are embedded: the layers open coloured), give
    the XLSX to the commune office, print the PDF for the hamlet heads (trưởng thôn).
    """),
    code("""
    import os

    for name, path in result.outputs.items():
        print(f"{name}:\\n    {os.path.relpath(path)}")
    """),
]

# --------------------------------------------------------------------------- 02
NB02 = [
    md("""
    # 2 · A garden's year in Sentinel-2: NDVI, BSI, clouds and pixels

    What does abandonment look like from space? This notebook follows a few gardens of each
    survey class (**phân loại vườn**) through 2020:

    * **NDVI** (vegetation): a tended vegetable garden (*vườn đạt chuẩn*, *vườn mẫu*) dips at
      each harvest and tillage, an orchard stays high and steady; an abandoned garden
      (*vườn hoang hóa*) is either bare and dry, or flat and slowly greening as shrubs take
      over;
    * **BSI** (bare-soil index): rises when the soil is bare (tillage, clearing, abandonment).

    Clouds (**mây**) hide some dates: ntmgis masks cloud, cirrus and shadow pixels with the
    Sentinel-2 scene classification (SCL) and counts a date for a parcel only when enough of
    it is seen clear. Finally we look at the pixels behind one small parcel and the share of
    each pixel that lies inside it (its coverage weight).
    """),
    setup("02_garden_time_series"),
    md("""
    ## Parcels and survey

    `read_parcels` reads the cadastral layer (thửa đất) and `join_survey` attaches the
    Step 2 survey rows by số tờ + số thửa, repairing what can be repaired (diacritics, case,
    spaces, abbreviations) and reporting the rest.
    """),
    code("""
    parcels = ntmgis.read_parcels(LAYERS / "thanh_binh.gpkg", layer="parcels")
    joined, join_report = ntmgis.join_survey(parcels, LAYERS / "survey_2020.xlsx")
    print(join_report)
    """),
    md("""
    ## The scenes

    `find_scenes` lists the dates; the STAC metadata of each scene carries its cloud cover
    (`eo:cloud_cover`) and its processing baseline (which decides the reflectance offset).
    """),
    code("""
    scenes = ntmgis.find_scenes(LAYERS / "s2")
    scene_table = pd.DataFrame(
        {
            "date": [s.date for s in scenes],
            "scene": [s.id for s in scenes],
            "baseline": [s.processing_baseline for s in scenes],
            "cloud_cover_%": [s.properties.get("eo:cloud_cover") for s in scenes],
        }
    )
    scene_table
    """),
    md("""
    ## Per-parcel time series

    `parcel_time_series` reads each index once per date over the commune and gives, per
    parcel and date, the coverage-weighted mean, the spread inside the parcel and the
    share of the parcel seen clear (`valid`). A fully cloudy date is kept (all NaN) and
    reported with a warning. Clouds are not the only gap: on 18 March the edge of the
    satellite's swath cuts the west of the commune (no data there that day).
    """),
    code("""
    series = ntmgis.parcel_time_series(joined, LAYERS / "s2", indices=["ndvi", "bsi"])
    dates = pd.to_datetime(series.dates)
    clear_share = pd.Series(series.valid.mean(axis=0), index=dates)  # share of parcels seen clear
    scene_table["parcels_seen_clear_%"] = (100 * clear_share.to_numpy()).round(1)
    cloudy = dates[clear_share.to_numpy() < 0.5]
    print("cloudy dates (less than half of the commune seen clear):", [d.date() for d in cloudy])
    scene_table
    """),
    md("""
    Pick three gardens of each survey class (gardens of at least 500 m², five pixels or
    more). The survey class is what the household told the surveyor, and some under-report
    abandonment. For clean examples we take gardens whose class the simulation's truth
    confirms (`layers/truth/parcels_truth.csv`, which only exists for the simulated sample
    and is never read by the pipeline); on a real commune, pick gardens you have visited.
    """),
    code("""
    truth = pd.read_csv(LAYERS / "truth" / "parcels_truth.csv")
    truth.index = truth["SHBANDO"].astype(str) + "-" + truth["SHTHUA"].astype(str)
    joined["true_class"] = joined["parcel_id"].map(truth["garden_class"])
    joined["true_condition"] = joined["parcel_id"].map(truth["condition"])
    print("survey class vs true class (simulation):")
    print(pd.crosstab(joined["garden_class"], joined["true_class"]).to_string())

    CLASSES = ["Vườn mẫu", "Vườn đạt chuẩn", "Vườn đã cải tạo", "Vườn tạp", "Vườn hoang hóa"]
    clean = joined[(joined["area_m2"] >= 500) & (joined["garden_class"] == joined["true_class"])]
    picked = {c: clean[clean["garden_class"] == c].sample(3, random_state=1).index for c in CLASSES}
    row_of = {ix: i for i, ix in enumerate(series.index)}
    joined.loc[[ix for ixs in picked.values() for ix in ixs],
               ["parcel_id", "hamlet", "area_m2", "garden_class", "true_condition"]]
    """),
    md("""
    Filled markers are clear observations (at least 60 % of the parcel seen clear, the
    library's default `min_valid`); hollow ones were partly clouded and are not used by the
    features. Grey bands mark the cloudy dates.
    """),
    code("""
    import matplotlib.dates as mdates

    clear = series.clear(0.6)
    fig, axes = plt.subplots(2, len(CLASSES), figsize=(17, 6.5), sharex=True, sharey="row")
    for col, cls in enumerate(CLASSES):
        for ix, colour in zip(picked[cls], ["#332288", "#117733", "#CC6677"]):
            i = row_of[ix]
            for r, index in enumerate(["ndvi", "bsi"]):
                ax = axes[r, col]
                values = series.mean[index][i]
                ax.plot(dates, values, "-", color=colour, lw=1, alpha=0.5)
                ax.plot(dates[clear[i]], values[clear[i]], "o", color=colour, ms=4,
                        label=joined.loc[ix, "parcel_id"])
                ax.plot(dates[~clear[i]], values[~clear[i]], "o", mfc="none", color=colour, ms=4)
        for r, index in enumerate(["NDVI", "BSI"]):
            for d in cloudy:
                axes[r, col].axvspan(d - pd.Timedelta(days=5), d + pd.Timedelta(days=5),
                                     color="0.85", zorder=0)
            axes[r, 0].set_ylabel(index)
        axes[0, col].set_title(cls)
        axes[0, col].legend(fontsize=7, loc="lower left")
    axes[1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%m"))
    axes[1, 0].xaxis.set_major_locator(mdates.MonthLocator(bymonth=[1, 3, 5, 7, 9, 11]))
    for ax in axes[1]:
        ax.set_xlabel("month of 2020")
    fig.suptitle("NDVI and BSI through 2020, by survey class (grey: cloudy dates)")
    plt.show()
    """),
    md("""
    The same story in a few numbers: `parcel_features` turns each series into the features
    the flags use (the full list with meanings is in `ntmgis.features.FEATURES`).
    """),
    code("""
    features = ntmgis.parcel_features(joined, None, series=series)
    keep = ["clear_obs", "ndvi_median", "ndvi_amplitude", "ndvi_resid_std", "events", "bsi_median",
            "bsi_spike"]
    table = pd.concat(
        {c: features.loc[i, keep].set_axis(joined.loc[i, "parcel_id"]) for c, i in picked.items()},
        names=["survey class", "parcel_id"],
    )
    table.round(3)
    """),
    md("""
    ## The pixels behind one small parcel

    A 200 m² garden is two Sentinel-2 pixels of 10 m × 10 m, and its edges cut through
    several more. `compute_coverage` finds, once per grid, which pixels each parcel
    touches and the **exact share of each pixel's area inside the parcel** (its weight). The
    statistics of every date and index reuse it. Its `matrix` is a sparse parcel × pixel
    table: the row of our parcel holds the weights, and `pixels` gives each column's flat
    pixel index on the grid (`row * width + col`).
    """),
    code("""
    small = joined[(joined["area_m2"] < 220) & joined["garden_class"].notna()]
    compactness = 4 * np.pi * small.area / small.length**2  # 1 for a circle, small for a sliver
    small = small.loc[[compactness.idxmax()]]
    print(small[["parcel_id", "hamlet", "area_m2", "land_use", "garden_class"]].to_string())

    red = scenes[0].bands["red"].href  # any band of the 10 m grid
    coverage = ntmgis.compute_coverage(small, red)
    m = coverage.matrix.tocsr()
    columns, weights = m.indices[m.indptr[0]:m.indptr[1]], m.data[m.indptr[0]:m.indptr[1]]
    rows_, cols_ = np.divmod(coverage.pixels[columns], coverage.shape[1])
    pixels = pd.DataFrame({"row": rows_, "col": cols_, "weight": weights.round(3)})
    print("grid", coverage.shape, coverage.crs, "| pixels touched:", len(pixels),
          "| sum of weights:", round(coverage.pixel_count[0], 2),
          "=", round(small.to_crs(coverage.crs).area.iloc[0] / 100, 2), "pixels of 100 m²")
    pixels
    """),
    md("""
    Check the weighted mean by hand on the first date (13 January, cloud-free): read the
    red and near-infrared pixels with rasterio, compute NDVI per pixel, weight by coverage,
    and compare with what `parcel_time_series` gave for that parcel and date.
    """),
    code("""
    import rasterio
    from rasterio.windows import Window

    r0, c0 = rows_.min() - 1, cols_.min() - 1
    h, w = rows_.max() - r0 + 2, cols_.max() - c0 + 2
    window = Window(c0, r0, w, h)
    with rasterio.open(scenes[0].bands["red"].href) as src:
        red_dn = src.read(1, window=window).astype(float)
        win_transform = src.window_transform(window)
    with rasterio.open(scenes[0].bands["nir"].href) as src:
        nir_dn = src.read(1, window=window).astype(float)
    ndvi_px = (nir_dn - red_dn) / (nir_dn + red_dn)  # the reflectance scale cancels out
    by_hand = np.sum(weights * ndvi_px[rows_ - r0, cols_ - c0]) / weights.sum()
    library = series.mean["ndvi"][row_of[small.index[0]], 0]
    print(f"NDVI on {scenes[0].date}: weighted by hand {by_hand:.4f}, "
          f"parcel_time_series {library:.4f}")
    """),
    code("""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5.5))
    x0, y0 = win_transform.c, win_transform.f  # upper-left corner of the window
    extent = (0, w * 10, -h * 10, 0)  # metres from that corner
    weight_grid = np.zeros((h, w))
    weight_grid[rows_ - r0, cols_ - c0] = weights
    outline = small.to_crs(coverage.crs).translate(-x0, -y0)
    for ax, grid, cmap, title in ((ax1, weight_grid, "Greens", "coverage weight"),
                                  (ax2, ndvi_px, "RdYlGn", f"NDVI {scenes[0].date}")):
        im = ax.imshow(grid, extent=extent, cmap=cmap, vmin=0, vmax=1)
        outline.boundary.plot(ax=ax, color="black", lw=2)
        for (r, c), value in np.ndenumerate(grid):
            x, y = extent[0] + (c + 0.5) * 10, extent[3] - (r + 0.5) * 10
            if ax is ax2 or value > 0:
                ax.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=8)
        ax.set_title(f"{small['parcel_id'].iloc[0]}: {title}")
        ax.set_xlabel(f"metres east of {x0:.0f} E (UTM 48N)")
        ax.set_ylabel(f"metres from {y0:.0f} N")
        fig.colorbar(im, ax=ax, shrink=0.8)
    plt.show()
    """),
]

# --------------------------------------------------------------------------- 03
NB03 = [
    md("""
    # 3 · Calibrating the flags on the survey

    The Step 2 survey (**khảo sát bước 2**) classes every garden. ntmgis uses it twice:

    * as **labels**: a classifier learns, for this commune, what *vườn hoang hóa* looks like
      in the imagery features, and picks the probability threshold above which a garden is
      flagged;
    * as a **claim** to check: where the imagery and the survey disagree, someone visits.

    This notebook opens the calibration: the labels, cross-validation grouped by hamlet
    (**thôn**), the confusion matrix, which features matter, and what moving the threshold
    does to precision (of the gardens flagged, how many are abandoned) and recall (of the
    abandoned gardens, how many are flagged).
    """),
    setup("03_calibrating_flags"),
    md("""
    ## Features and labels

    The features come from the time series (notebook 2). The labels are the survey
    classes; *vườn hoang hóa* is the positive class and the four others (mẫu, đạt chuẩn, đã
    cải tạo, tạp) are negative. Gardens the survey missed, or with too few clear
    observations (the rules flag them *thiếu dữ liệu*), are left out.
    """),
    code("""
    parcels = ntmgis.read_parcels(LAYERS / "thanh_binh.gpkg", layer="parcels")
    joined, join_report = ntmgis.join_survey(parcels, LAYERS / "survey_2020.xlsx")
    features = ntmgis.parcel_features(joined, LAYERS / "s2")

    # the codebook's class codes are the keys every output uses: vuon_mau, dat_chuan,
    # da_cai_tao, vuon_tap, hoang_hoa (NaN: not surveyed, or a class the codebook lacks)
    labels = joined["garden_class_code"].astype(object).rename("survey_class")
    ruled = ntmgis.apply_rules(features)
    usable = labels.notna() & (ruled["flag"] != "thieu_du_lieu")
    print(f"{usable.sum()} labelled gardens with enough clear observations, "
          f"{(~usable & labels.notna()).sum()} labelled but too cloudy or small")
    pd.crosstab(joined.loc[usable, "hamlet"], labels[usable], margins=True)
    """),
    md("""
    ## Calibrate

    `ntmgis.calibrate` fits gradient-boosted trees (LightGBM, monotone in each feature's
    abandoned side) and reports precision, recall and F1 of a **cross-validation grouped by
    hamlet**: the model is always scored on a hamlet it did not see, so the numbers say how
    it would do on the next hamlet, not on gardens next to its training gardens. The
    out-of-fold scores are calibrated (isotonic), so a probability of 0.8 means about 8 in
    10 such gardens are surveyed abandoned (`cal.reliability`). The threshold maximises the
    F2 score (recall counts twice: a missed abandoned garden costs more than an extra
    visit). Survey labels the cross-validation contradicts with confidence, and gardens
    renovated this season (their survey predates the clearing), are left out of the final
    fit.
    """),
    code("""
    hamlet = joined["hamlet"]
    cal = ntmgis.calibrate(features[usable], labels[usable], groups=hamlet[usable])
    print(cal.summary())
    print("labels left out of the final fit (contradicted, or renovated since):", cal.dropped_labels)
    cal.reliability.round(3)
    """),
    md("""
    ## Which features matter

    The mean absolute attribution of each feature (the trees' SHAP values, LightGBM's
    `pred_contrib`, in log-odds) over the surveyed gardens: the same numbers, per garden,
    become its reasons. Descriptions are in `ntmgis.features.FEATURES`. Correlated features share the credit
    (the NDVI spread, amplitude and residual spread all measure how flat the year is), so
    read the top of the list as "how much NDVI varies through the year" rather than as one
    column.
    """),
    code("""
    from ntmgis.features import FEATURES

    top = cal.importances.head(10)
    fig, ax = plt.subplots(figsize=(8, 4))
    top[::-1].plot.barh(ax=ax, color="#44AA99")
    ax.set_xlabel("importance")
    ax.set_title("Top 10 features of the calibrated model")
    plt.show()
    pd.DataFrame({"importance": top.round(3), "meaning": [FEATURES.get(f, "") for f in top.index]})
    """),
    md("""
    ## Grouped cross-validation, step by step

    `calibrate` keeps, per surveyed garden, the calibrated probability given by a model
    that never saw its hamlet (`cal.cv_proba`) and the survey's label (`cal.labels`, 1 =
    abandoned): the numbers behind `cal.report`.
    """),
    code("""
    proba = cal.cv_proba.to_numpy()
    y = cal.labels.to_numpy() == 1
    scored = cal.labels.index
    print(f"{len(y)} surveyed gardens in {hamlet[scored].nunique()} hamlets, "
          f"{y.sum()} surveyed abandoned")
    """),
    md("""
    ## Confusion matrix against the survey

    At the calibrated threshold: rows are what the survey says, columns what the imagery
    model says. Off-diagonal gardens are exactly the disagreements worth a visit.
    """),
    code("""
    def confusion(truth, predicted, truth_name):
        return pd.crosstab(
            pd.Series(np.where(truth, "hoang hóa", "khác (other)"), name=truth_name),
            pd.Series(np.where(predicted, "flagged hoang hóa", "not flagged"), name="model"),
        )


    def precision_recall(truth, predicted):
        tp = np.sum(predicted & truth)
        return tp / max(predicted.sum(), 1), tp / max(truth.sum(), 1)


    flagged = proba >= cal.threshold
    print(f"threshold {cal.threshold:.3f}: precision {precision_recall(y, flagged)[0]:.3f}, "
          f"recall {precision_recall(y, flagged)[1]:.3f} against the survey")
    confusion(y, flagged, "survey")
    """),
    md("""
    ## Against the truth (simulation only)

    **This section only exists because the sample commune is simulated**: its true
    condition is in `layers/truth/parcels_truth.csv`. A real commune has no such file.
    It shows that the survey is itself a noisy label: some households report an abandoned
    garden as *vườn tạp*, so scores against the survey understate (or overstate) the
    model's real accuracy.
    """),
    code("""
    truth = pd.read_csv(LAYERS / "truth" / "parcels_truth.csv")
    truth_key = truth["SHBANDO"].astype(str) + "-" + truth["SHTHUA"].astype(str)  # số tờ-số thửa
    abandoned_truth = joined["parcel_id"].map(dict(zip(truth_key, truth["abandoned"] == 1)))
    y_true = abandoned_truth[scored].to_numpy(bool)
    print(f"survey labels that differ from the truth: {(y != y_true).sum()} of {len(y)}")
    print(f"threshold {cal.threshold:.3f}: precision {precision_recall(y_true, flagged)[0]:.3f}, "
          f"recall {precision_recall(y_true, flagged)[1]:.3f} against the truth (SIMULATION)")
    confusion(y_true, flagged, "truth (simulation)")
    """),
    md("""
    ## Moving the threshold

    A lower threshold flags more gardens: recall rises (fewer abandoned gardens missed),
    precision falls (more visits that find a tended garden). The calibrated threshold is
    the one with the best F2 score.
    """),
    code("""
    thresholds = np.round(np.arange(0.05, 0.96, 0.025), 3)
    rows = []
    for t in thresholds:
        p_s, r_s = precision_recall(y, proba >= t)
        p_t, r_t = precision_recall(y_true, proba >= t)
        rows.append((t, int((proba >= t).sum()), p_s, r_s, p_t, r_t))
    sweep = pd.DataFrame(rows, columns=["threshold", "flagged", "precision_survey", "recall_survey",
                                        "precision_truth", "recall_truth"]).set_index("threshold")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(sweep.index, sweep["precision_survey"], color="#332288", label="precision vs survey")
    ax.plot(sweep.index, sweep["recall_survey"], color="#CC6677", label="recall vs survey")
    ax.plot(sweep.index, sweep["precision_truth"], "--", color="#332288",
            label="precision vs truth (simulation)")
    ax.plot(sweep.index, sweep["recall_truth"], "--", color="#CC6677",
            label="recall vs truth (simulation)")
    ax.axvline(cal.threshold, color="0.4", lw=1)
    ax.annotate(f"calibrated {cal.threshold:.2f}", (cal.threshold, 0.02), xytext=(4, 0),
                textcoords="offset points", fontsize=8)
    ax.set_xlabel("probability threshold")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Precision and recall of 'vườn hoang hóa' as the threshold moves")
    plt.show()
    sweep.loc[[0.2, 0.3, 0.4, 0.5, 0.6, 0.7]].round(3)
    """),
    md("""
    ## The flags the pipeline writes

    `ntmgis.flag_parcels` does all of the above in one call: calibration when the survey
    has enough labels (else the rules decide, and say so), the calibrated threshold,
    *nghi vấn* for gardens between half the threshold and the threshold, *cải tạo* for a
    garden cleared and grown back this season, *thiếu dữ liệu* where the evidence is too
    thin; the strength of the evidence (*mạnh, vừa, yếu*) and at most three reasons per
    garden from its own attributions, with the commune's reference values.
    `ntmgis.evaluate` scores the flags against a truth table (again: the truth exists only
    for the simulated sample).

    These flags score higher than the cross-validation above because the final model was
    trained on every hamlet, with the contradicted labels left out. The grouped
    cross-validation is the honest estimate for a hamlet the model has not seen; report
    that one.
    """),
    code("""
    garden = labels.notna() | joined["land_use"].isin(["ONT", "ONT+CLN", "CLN", "HNK"])
    flags, calibration = ntmgis.flag_parcels(features, survey_class=labels, groups=hamlet,
                                             is_garden=garden)
    print(flags["flag"].value_counts(dropna=False).to_string())
    flags.loc[flags["flag"].eq("hoang_hoa"), ["flag", "evidence", "flag_reasons"]].head(5)
    """),
    code("""
    flagged_parcels = pd.concat([joined[["sheet", "parcel_no"]], flags], axis=1)
    print(ntmgis.evaluate(flagged_parcels, truth).summary())
    """),
]

# --------------------------------------------------------------------------- 04
NB04 = [
    md("""
    # 4 · Two campaigns, ranked hamlets and the printed maps

    New Rural Development is measured over time: the commune surveys its gardens
    (**khảo sát bước 2**, here in 2020), sets each hamlet (**thôn**) targets (**chỉ tiêu**:
    abandoned gardens brought back into use, share of gardens meeting the standard, model
    gardens), and checks progress later (**bước 5, kiểm tra tiến độ**, here a follow-up
    survey and a year of imagery in 2022). This notebook

    1. runs the baseline campaign (2020) and the follow-up (2022) measured against it,
    2. ranks the hamlets against their targets (**xếp hạng thôn**),
    3. follows every garden from one campaign to the next (transitions, renovations the
       imagery confirms),
    4. prints the hamlet maps (**bản đồ thôn**) for the hamlet heads.
    """),
    setup("04_hamlet_progress_and_maps"),
    md("""
    ## Run both campaigns

    The follow-up config names the baseline run's GeoPackage (`inputs.baseline`), so the
    baseline must run first. About 20 seconds each (`sample_config` returns a `RunConfig`
    dataclass: `dataclasses.replace` changes an option). In 2022 the Sentinel-2 processing
    baseline 04.00 adds an offset to the pixel values; the library reads it from the scene
    metadata.
    """),
    code("""
    from dataclasses import replace

    # maps=False: the maps are printed further down with render_maps
    baseline = ntmgis.run(replace(ntmgis.sample_config(LAYERS, out=OUT), maps=False))
    followup = ntmgis.run(replace(ntmgis.sample_config(LAYERS, out=OUT, followup=2022), maps=False))
    # the GeoPackage each run wrote (the first of its outputs)
    base_gpkg = next(p for p in baseline.outputs.values() if p.suffix == ".gpkg")
    follow_gpkg = next(p for p in followup.outputs.values() if p.suffix == ".gpkg")
    print(base_gpkg.name, "->", follow_gpkg.name)
    for year, run in ((2020, baseline), (2022, followup)):
        print(f"{year}:", run.calibration.summary(), end="\\n\\n")
    """),
    md("""
    ## Ranked hamlets

    For each target, *achieved / target (progress %)*; the score is the mean progress of
    the targets, each capped at 200 % so one easy target does not outweigh the others.
    Renovations count when the imagery confirms them (the garden is flagged *bình thường*
    in 2022). A hamlet has the status *vượt chỉ tiêu* (exceeded) when it exceeds every
    target, *đạt* when it meets them all, and *chưa đạt* when it misses one, whatever its
    score: only hamlets that met or exceeded all targets get a reward priority.
    `format_ranking` prints the table in Vietnamese or English.
    """),
    code("""
    ranking = followup.progress
    print(ntmgis.format_ranking(ranking, lang="vi"))
    print()
    print(ntmgis.format_ranking(ranking, lang="en"))
    """),
    code("""
    columns = ["rank", "hamlet", "gardens", "abandoned_baseline_survey", "renovated_reported",
               "renovated_confirmed", "abandoned_survey", "abandoned_imagery", "score", "status",
               "reward_priority"]
    ranking[columns]
    """),
    md("""
    Counting every *reported* renovation instead (what the households told the surveyor)
    changes the picture where the imagery does not confirm them:
    """),
    code("""
    targets = LAYERS / "targets_2020.csv"
    reported = ntmgis.hamlet_progress(follow_gpkg, targets, baseline=base_gpkg,
                                      renovations="reported")
    pd.DataFrame({
        "rank (confirmed)": ranking.set_index("hamlet")["rank"],
        "score (confirmed)": ranking.set_index("hamlet")["score"],
        "rank (reported)": reported.set_index("hamlet")["rank"],
        "score (reported)": reported.set_index("hamlet")["score"],
    }).sort_values("rank (confirmed)")
    """),
    code("""
    from matplotlib.patches import Patch

    status_theme = ntmgis.get_theme("status")
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ordered = ranking.sort_values("score")
    ax.barh(ordered["hamlet"], ordered["score"],
            color=[status_theme[s].color for s in ordered["status"]])
    ax.axvline(100, color="0.3", lw=1, ls="--")
    ax.set_xlabel("score (% of targets, each capped at 200 %)")
    ax.set_title("Hamlet progress 2022 against the 2020 targets")
    ax.legend(handles=[Patch(color=status_theme[s].color, label=status_theme[s].label("vi"))
                       for s in dict.fromkeys(ordered["status"])], fontsize=8, loc="lower right")
    plt.show()
    """),
    md("""
    ## From one campaign to the next

    `compare_campaigns` matches the parcels of both runs by số tờ-số thửa and says, for
    each, how its survey class and flag moved, and for gardens abandoned in 2020 whether a
    renovation is reported, confirmed by the imagery (`xac_nhan`), reported but not seen
    (`anh_chua_thay`: visit), or seen but not reported.
    """),
    code("""
    changes = ntmgis.compare_campaigns(base_gpkg, follow_gpkg)
    print(changes["presence"].value_counts().to_string())
    changes["renovation"].value_counts()
    """),
    code("""
    survey_theme = ntmgis.get_theme("survey_class")
    order = [k for k in survey_theme.keys if k in set(changes["survey_class_before"].dropna())
             | set(changes["survey_class_after"].dropna())]
    pd.crosstab(
        pd.Categorical(changes["survey_class_before"], categories=order),
        pd.Categorical(changes["survey_class_after"], categories=order),
        rownames=["survey 2020"], colnames=["survey 2022"],
    )
    """),
    code("""
    pd.crosstab(changes["hamlet"], changes["renovation"].fillna("(not abandoned in 2020)"),
                margins=True)
    """),
    md("""
    The transitions on a map: gardens abandoned in 2020, coloured by what became of them.
    """),
    code("""
    outcomes = {  # key: (colour, meaning)
        "xac_nhan": ("#117733", "renovation reported and confirmed"),
        "anh_chua_thay": ("#CC6677", "reported, imagery not convinced: visit"),
        "anh_thay_chua_bao_cao": ("#DDCC77", "imagery sees use, not reported"),
        "van_hoang_hoa": ("#882255", "still abandoned"),
        "khong_du_lieu": ("#BBBBBB", "reported, too few clear images"),
        "chua_ro": ("#88CCEE", "unclear"),
    }
    fig, ax = plt.subplots(figsize=(12, 8))
    changes.plot(ax=ax, color="white", edgecolor="#BBBBBB", linewidth=0.1)
    handles = []
    for outcome, (colour, meaning) in outcomes.items():
        part = changes[changes["renovation"] == outcome]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="#555555", linewidth=0.1)
            handles.append(Patch(color=colour, label=f"{outcome}: {meaning} ({len(part)})"))
    followup.hamlets.boundary.plot(ax=ax, color="black", linewidth=1)
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8,
              title="gardens abandoned in 2020 →")
    ax.set_axis_off()
    plt.show()
    """),
    md("""
    ## Printing the hamlet maps

    `render_maps` prints one PDF: a commune overview with the hamlets coloured by their
    status, then one page per hamlet with its gardens coloured by flag, the list of
    households to visit (with the reasons, in Vietnamese), a scale bar, a north arrow, the
    imagery dates, and a place for the date and signature. `png=True` also writes each page
    as an image for slides or Zalo. Other themes: `by="survey"`, `by="agreement"`.
    """),
    code("""
    files = ntmgis.render_maps(follow_gpkg, OUT / "maps", by="flag", png=True, dpi=60,
                               hamlet_status=ranking)
    for f in files:
        print(f.relative_to(OUT), f"{f.stat().st_size / 1024:.0f} kB")
    """),
    code("""
    from IPython.display import Image, display

    page = next(f for f in files if f.suffix == ".png" and "_thon_" in f.name)  # a hamlet page
    print(page.name)
    display(Image(filename=str(page), width=700))
    """),
    md("""
    The PDF (`files[0]`) is ready to print on A4; pass `paper="A3"` for large hamlets.
    (With the default `maps = true` in its config, `ntmgis.run` prints the same PDF beside
    its GeoPackage.) Besides the GeoPackage, the run wrote the XLSX progress report
    (`bao_cao_tien_do.xlsx`: the commune summary, the ranking, the households to visit and
    the transitions) and the same tables as CSV:
    """),
    code("""
    for name, path in followup.outputs.items():
        print(f"{name}: {path.name}")
    """),
]

NOTEBOOKS = {
    "01_quickstart": NB01,
    "02_garden_time_series": NB02,
    "03_calibrating_flags": NB03,
    "04_hamlet_progress_and_maps": NB04,
}


def build() -> dict[str, str]:
    """File name -> JSON text of every notebook."""
    return {f"{stem}.ipynb": dumps(notebook(stem, cells)) for stem, cells in NOTEBOOKS.items()}


def main(argv: list[str]) -> int:
    """Write the notebooks (into ``argv[0]`` when given, else beside this file)."""
    folder = Path(argv[0]) if argv else HERE
    for name, text in build().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
