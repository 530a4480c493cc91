"""``ntmgis plan``: Step 3 needs, the Step 4 renovation plan and Step 6 commendations."""

from __future__ import annotations

import click

from .. import i18n

i18n.register(
    "cli.plan.empty_maps",
    vi="Không in bản đồ kế hoạch: kế hoạch không có vườn nào cần cải tạo.",
    en="No plan map printed: the plan holds no garden to renovate.",
)
i18n.register(
    "cli.plan.no_geometry_maps",
    vi="Không in được bản đồ kế hoạch: kết quả không có hình thửa đất. Hãy dùng tệp "
    "GeoPackage kết quả của lần chạy.",
    en="The plan's map was not printed: the result has no parcel shapes. Use the run's "
    "result GeoPackage.",
)


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option(
    "--baseline",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Result of the earlier campaign: adds the commendations (Đề nghị khen thưởng) and, "
    "when it holds a renovation_plan layer, planned vs done.",
)
@click.option(
    "--targets",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Hamlet targets (CSV/XLSX): hamlets that exceeded every target are proposed too.",
)
@click.option(
    "--previous-plan",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="An earlier plan GeoPackage (layer renovation_plan) to measure: planned vs done.",
)
@click.option("--hamlets", multiple=True, help="Only this hamlet (repeat for more).")
@click.option(
    "--codebook",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook TOML with its own [[needs]].",
)
@click.option(
    "--maps",
    "maps",
    is_flag=True,
    help="Also print the plan's map: a page per hamlet, its gardens numbered in the plan's "
    "order, the list beside the map (ban_do_..._plan_priority.pdf).",
)
@click.option(
    "--paper",
    default="A4",
    show_default=True,
    type=click.Choice(["A4", "A3"], case_sensitive=False),
    help="Paper of the plan's map (with --maps).",
)
def plan(result, outdir, baseline, targets, previous_plan, hamlets, codebook, maps,
         paper) -> None:  # fmt: skip
    """Write the commune's renovation plan from RESULT (a GeoPackage of 'ntmgis run').

    OUT gets ke_hoach_cai_tao_vuon.gpkg (layer renovation_plan: the follow-up campaign is
    measured against it), ke_hoach_cai_tao_vuon.xlsx (sheets: Kế hoạch cải tạo, Nhu cầu
    hỗ trợ, and with --baseline Đề nghị khen thưởng, Thực hiện kế hoạch) and one CSV per
    sheet. With --maps, also the plan printed: ban_do_<xã>_plan_priority.pdf.
    """
    import pandas as pd

    from ..plan_outputs import write_plan
    from ._common import progress_bar

    with progress_bar("Kế hoạch cải tạo vườn") as callback:
        written = write_plan(
            result, outdir, hamlets=list(hamlets) or None, baseline=baseline, targets=targets,
            previous_plan=previous_plan, codebook=codebook, progress=callback,
        )  # fmt: skip
    plan_csv = written.get("plan")
    if plan_csv is not None:
        table = pd.read_csv(plan_csv, encoding="utf-8-sig")
        counts = table.groupby(["Thôn", "Ưu tiên"]).size().unstack(fill_value=0)
        click.echo("Renovation plan (gardens per hamlet):")
        click.echo(counts.to_string())
    if maps:
        from ..maps import render_maps
        from ..plan import read_plan

        planned = read_plan(written["gpkg"]) if "gpkg" in written else None
        if planned is not None and len(planned):  # the plan as written: its layer read back
            with progress_bar("Bản đồ kế hoạch cải tạo") as callback:
                pages = render_maps(result, outdir, by="plan", paper=paper, progress=callback,
                                    plan=planned)  # fmt: skip
            written["maps_pdf"] = pages[0]
        elif planned is not None:
            from ..i18n import message

            click.echo(message("cli.plan.empty_maps"), err=True)
        else:
            from ..i18n import message

            click.echo(message("cli.plan.no_geometry_maps"), err=True)
    click.echo("Wrote:")
    for path in written.values():
        click.echo(f"  {path}")
