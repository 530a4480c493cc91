"""The commands' help in Vietnamese: command -> {"": the command's help, option: its help}.

The English help stays where click reads it, beside each option in the command's module;
:func:`ntmgis.cli.localise` puts these in its place when the language in force is ``vi``
(``--lang vi``, ``NTMGIS_LANG`` or the locale). ``tests/test_cli_help.py`` checks that
every option of every command has its sentence here.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

HELP_VI: dict[str, dict[str, str]] = {
    "evaluate": {
        "": "Chấm kết quả phân loại của RESULT.gpkg so với bảng sự thật TRUTH (độ chính xác, "
        "độ phủ, F1).",
        "suspected": "Tính cả 'nghi_van' (nghi vấn) là hoang hóa.",
    },
    "fetch": {
        "": "Tải ảnh vệ tinh của vùng AOI trong một khoảng thời gian, chỉ phần cửa sổ của "
        "vùng, vào thư mục OUT.\n\n"
        "AOI là một tệp vector thư viện đọc được (ranh giới xã, các thửa đất; hệ tọa độ nào "
        "cũng được, kể cả VN-2000) hoặc một khung TÂY,NAM,ĐÔNG,BẮC tính bằng độ. Mỗi ngày "
        "chụp được giữ thành OUT/<mã ảnh>/ với một COG cho mỗi kênh phổ và một item.json mà "
        "`ntmgis run` và `ntmgis indices` đọc được ngay. Chạy lần thứ hai thì bỏ qua phần đã "
        "đủ và tải tiếp phần còn dở.",
        "period": "Khoảng ngày cần tải, BẮT ĐẦU:KẾT THÚC, ví dụ 2020-01-01:2020-12-31.",
        "outdir": "Thư mục ghi kết quả: mỗi ngày chụp một thư mục.",
        "aoi_layer": "Lớp của tệp AOI, ví dụ 'commune'.",
        "aoi_crs": "Hệ tọa độ của AOI không ghi hệ tọa độ (hoặc của khung tọa độ).",
        "catalog": "earth-search, planetary-computer, cdse, hoặc địa chỉ một STAC API.",
        "collection": "sentinel-2-l2a hoặc landsat-c2-l2.",
        "max_cloud": "Tỷ lệ % điểm ảnh của chính vùng AOI bị mây/bóng mây tối đa để một ngày "
        "chụp được giữ lại.",
        "bands": "Các kênh phổ cần tải, cách nhau bằng dấu phẩy: blue,green,red,nir,swir16... "
        "Mặc định: các kênh mà chỉ số cần; kênh mặt nạ (scl, qa_pixel) luôn được tải kèm.",
        "margin": "Số mét lấy thêm quanh AOI.",
        "workers": "Số kênh phổ đọc song song.",
        "timeout": "Số giây chờ cho mỗi yêu cầu HTTP.",
        "retries": "Số lần thử lại một yêu cầu bị lỗi.",
    },
    "indices": {
        "": "Tính các chỉ số thực vật (đã lọc mây) từ SCENES và ghi COG vào OUT.\n\n"
        "SCENES là một thư mục chứa các thư mục ảnh (mỗi kênh phổ một GeoTIFF), các GeoTIFF "
        "nhiều kênh, hoặc một STAC ItemCollection/catalog. Với mỗi chỉ số và mỗi lưới tọa "
        "độ, OUT có <chỉ số>_series.tif (mỗi ngày chụp một kênh, NaN ở chỗ có mây) và "
        "<chỉ số>_composite.tif (trung vị, lớn nhất, nhỏ nhất, biên độ p90-p10, số lần chụp "
        "rõ), cùng scenes.csv.",
        "outdir": "Thư mục ghi kết quả.",
        "period": "Khoảng ngày dùng, BẮT ĐẦU:KẾT THÚC, ví dụ 2020-01-01:2020-12-31.",
        "aoi": "Vùng quan tâm (tệp vector).",
        "aoi_layer": "Lớp của tệp AOI, ví dụ 'commune'.",
        "index_names": "Chỉ số cần tính (dùng nhiều lần được): ndvi, evi, savi, osavi, ndmi, "
        "bsi. Mặc định: ndvi.",
        "formulas": "Thêm và tính một chỉ số theo công thức (dùng nhiều lần được), ví dụ "
        "'gndvi=(nir-green)/(nir+green)'.",
        "grid": "Kích thước điểm ảnh: 10m hoặc 20m (mặc định: kênh phổ mịn nhất).",
        "margin": "Số mét lấy thêm quanh AOI.",
        "skip_bad": "Bỏ qua ảnh không đọc được (có báo lại) thay vì dừng.",
        "no_series": "Chỉ ghi ảnh tổng hợp, không ghi chuỗi theo ngày.",
    },
    "maps": {
        "": "In bản đồ các thôn từ RESULT (GeoPackage do `ntmgis run` ghi) vào OUT.\n\n"
        "Một tệp PDF: một trang toàn xã, rồi mỗi thôn một trang (ngang hay dọc theo hình "
        "dạng của thôn) kèm danh sách hộ cần kiểm tra, sang trang tiếp khi danh sách dài. "
        "Phông chữ tiếng Việt được nhúng vào tệp.",
        "outdir": "Thư mục ghi kết quả.",
        "by": "Tô màu thửa đất theo kết quả ảnh vệ tinh, theo phân loại khảo sát, hoặc theo "
        "sự khớp giữa hai bên.",
        "paper": "Khổ giấy (mỗi trang ngang hay dọc theo hình dạng thôn).",
        "png": "Ghi thêm mỗi trang thành một ảnh PNG (để trình chiếu).",
        "commune": "Tên xã trên tiêu đề (mặc định: lấy từ RESULT).",
        "year": "Năm trên tiêu đề (mặc định: lấy từ RESULT).",
        "date": "Ngày ở dòng ký tên: YYYY-MM-DD, 'today' (hôm nay), hoặc 'blank' để trống "
        "cho điền tay.",
    },
    "needs": {
        "": "Tổng hợp cột nhu cầu hỗ trợ của RESULT (GeoPackage của một lần chạy, hoặc kết "
        "quả 'ntmgis survey').\n\n"
        "OUT có nhu_cau_ho_tro.xlsx và .csv (theo thôn và toàn xã: số hộ và diện tích vườn "
        "theo từng nhu cầu, đối chiếu với phân loại khảo sát và kết quả ảnh vệ tinh) và "
        "nhu_cau_ho_tro_chi_tiet.csv (mỗi thửa và mỗi nhu cầu một dòng).",
        "outdir": "Thư mục ghi kết quả.",
        "codebook": "Tệp bộ mã TOML có [[needs]] riêng.",
    },
    "plan": {
        "": "Lập kế hoạch cải tạo vườn của xã từ RESULT (GeoPackage của 'ntmgis run').\n\n"
        "OUT có ke_hoach_cai_tao_vuon.gpkg (lớp renovation_plan: đợt theo dõi sau được đo "
        "theo kế hoạch này), ke_hoach_cai_tao_vuon.xlsx (các trang: Kế hoạch cải tạo, Nhu "
        "cầu hỗ trợ, và khi có --baseline thì thêm Đề nghị khen thưởng, Thực hiện kế hoạch) "
        "và mỗi trang một tệp CSV. Khi có --maps, in thêm bản đồ kế hoạch: "
        "ban_do_<xã>_plan_priority.pdf.",
        "outdir": "Thư mục ghi kết quả.",
        "baseline": "Kết quả của đợt khảo sát trước: thêm danh sách Đề nghị khen thưởng và, "
        "khi có lớp renovation_plan, so sánh kế hoạch với thực hiện.",
        "targets": "Chỉ tiêu các thôn (CSV/XLSX): các thôn vượt mọi chỉ tiêu cũng được đề "
        "nghị khen thưởng.",
        "previous_plan": "GeoPackage kế hoạch trước (lớp renovation_plan) để đo: kế hoạch so "
        "với thực hiện.",
        "hamlets": "Chỉ thôn này (dùng nhiều lần cho nhiều thôn).",
        "codebook": "Tệp bộ mã TOML có [[needs]] riêng.",
        "maps": "In thêm bản đồ kế hoạch: mỗi thôn một trang, các vườn đánh số theo thứ tự "
        "kế hoạch, danh sách bên cạnh bản đồ (ban_do_..._plan_priority.pdf).",
        "paper": "Khổ giấy của bản đồ kế hoạch (khi có --maps).",
    },
    "progress": {
        "": "Đo tiến độ từng thôn so với chỉ tiêu TARGETS, xếp hạng các thôn, ghi báo "
        "cáo.\n\n"
        "RESULT là GeoPackage do 'ntmgis run' ghi (lớp parcels và hamlets); TARGETS là bảng "
        "chỉ tiêu các thôn dạng CSV hoặc XLSX (Thôn, Số vườn hoang hóa đưa vào sử dụng, Tỷ "
        "lệ vườn đạt chuẩn (%), Số vườn mẫu). OUT có bao_cao_tien_do.xlsx và mỗi trang một "
        "tệp CSV; bảng xếp hạng các thôn được in ra màn hình.",
        "baseline": "GeoPackage kết quả của đợt trước (để tính vườn đã cải tạo và biến động).",
        "outdir": "Thư mục ghi kết quả.",
        "sheet": "Trang tính của tệp chỉ tiêu XLSX (mặc định: trang đầu).",
        "renovations": "Cách tính vườn đã cải tạo vào chỉ tiêu vườn hoang hóa đưa vào sử dụng.",
        "commune": "Tên xã trên báo cáo (mặc định: lấy từ RESULT).",
        "config": "Tệp cấu hình chạy (TOML) có mục [report] cho thể thức văn bản của báo cáo "
        "(cơ quan ban hành, số, địa danh, ngày, người ký, nơi nhận).",
    },
    "run": {
        "": "Chạy cả chuỗi cho một xã: khảo sát, ảnh vệ tinh, thống kê, phân loại, kết quả."
        "\n\n"
        "CONFIG là một tệp TOML (xem ntmgis.config) của một xã hoặc một tỉnh (bảng "
        "[province] liệt kê tệp cấu hình các xã, chạy lần lượt hoặc, với --workers hay "
        "--scheduler, chạy trên Dask). --sample chạy đợt khảo sát đầu kỳ của xã mẫu, rồi đợt "
        "theo dõi so với đợt đầu, sau mỗi đợt in kết quả chấm so với sự thật của xã mẫu "
        "(bản thân chuỗi xử lý không bao giờ đọc sự thật).",
        "use_sample": "Chạy trên xã mẫu (layers/thanh_binh.toml) và chấm kết quả.",
        "layers": "Thư mục của xã mẫu (khi có --sample).",
        "outdir": "Thư mục ghi kết quả (mặc định: thư mục [outputs] dir của cấu hình; 'out' "
        "khi có --sample).",
        "scheduler": "Chạy trên bộ điều phối Dask này (chia theo xã và khối ảnh; các máy "
        "worker phải đọc được dữ liệu vào và ghi được kết quả). Cần gói [distributed].",
        "workers": "Chạy trên một cụm Dask tại máy với N tiến trình worker (127.0.0.1).",
        "visits_per_hamlet": "Số lần kiểm tra thực địa mỗi thôn làm được (mặc định: 15% số "
        "vườn của thôn; trong cấu hình: [flags] visits_per_hamlet).",
    },
    "sample": {
        "": "Ghi xã mẫu mô phỏng (Xã Thanh Bình) vào OUTDIR.\n\n"
        "Thửa đất, thôn, phiếu khảo sát Bước 2 (XLSX và CSV, có các lỗi như thực tế), chỉ "
        "tiêu các thôn, ảnh giống Sentinel-2 L2A của một năm, và sự thật trong "
        "OUTDIR/truth/; rồi một đợt theo dõi (khảo sát, ảnh, sự thật) hai năm sau. Cùng hạt "
        "giống và năm luôn cho cùng dữ liệu: hạt giống hay năm khác là một xã mà phương pháp "
        "chưa được chỉnh theo (``--seed 11 --year 2023``). Mỗi điểm ảnh thấy đúng ô của nó "
        "và các ảnh trùng khớp tuyệt đối, trừ khi có ``--psf``, ``--misregistration`` hoặc "
        "``--realistic-sensor``.",
        "seed": "Hạt giống ngẫu nhiên.",
        "n_parcels": "Số thửa đất của các hộ.",
        "n_dates": "Số ngày chụp Sentinel-2 trong năm.",
        "year": "Năm của đợt khảo sát đầu kỳ (khảo sát và ảnh).",
        "followup_year": "Năm của đợt theo dõi.  [mặc định: YEAR + 2]",
        "followup_dates": "Số ngày chụp Sentinel-2 của đợt theo dõi.",
        "no_followup": "Chỉ ghi đợt khảo sát đầu kỳ.",
        "psf": "Hàm trải điểm (PSF) Gauss của quang học mỗi kênh, sigma tính bằng điểm ảnh.  "
        "[mặc định: 0, điểm ảnh hình hộp]",
        "misregistration": "Mỗi ảnh lệch ngẫu nhiên, sigma tính bằng mét theo mỗi trục.  "
        "[mặc định: 0]",
        "realistic_sensor": "Cảm biến như của Sentinel-2: --psf 0.45 --misregistration 3 "
        "(trừ khi đã cho).",
    },
    "survey": {
        "": "Ghép phiếu khảo sát vườn Bước 2 SURVEY (CSV/XLSX) với các thửa đất PARCELS và "
        "ghi OUT.gpkg.\n\n"
        "Mọi thửa đất đều được ghi (lớp ``parcels``) với các cột khảo sát và trạng thái ghép "
        "survey_status; các dòng khảo sát không ghép được vào ``survey_unmatched``, mọi sửa "
        "chữa và vấn đề vào ``join_issues``. Bản tóm tắt được in ra màn hình.",
        "out": "GeoPackage kết quả (các lớp parcels, survey_unmatched, join_issues).",
        "layer": "Lớp thửa đất trong một tệp nhiều lớp.",
        "sheet": "Trang tính của phiếu khảo sát XLSX.",
        "on": "Ghép theo (số tờ, số thửa), mã hộ, hoặc điểm GPS.",
        "codebook": "Bộ mã TOML các loại vườn (mặc định: năm loại vườn của Bước 2).",
        "crs": "Hệ tọa độ của thửa đất khi tệp không ghi hoặc ghi sai.",
        "province": "Tỉnh, để gợi ý múi VN-2000.",
        "fields": "Cột thửa đất cho một trường chuẩn (dùng nhiều lần được), ví dụ --field "
        "sheet=TO.",
        "survey_fields": "Tiêu đề cột khảo sát cho một trường chuẩn (dùng nhiều lần được), ví "
        "dụ --survey-field garden_class_raw='Xếp loại'.",
        "report_path": "Ghi thêm báo cáo dạng .xlsx hoặc .csv.",
    },
    "survey-form": {
        "": "Ghi phiếu khảo sát Bước 2 cho các thửa vườn của PARCELS.\n\n"
        "Mỗi thôn một tệp OUT/phieu_khao_sat_<thôn>.xlsx: mỗi thửa vườn được điền sẵn (số "
        "tờ, số thửa, chủ hộ, diện tích, loại đất), các cột trống có danh sách chọn cho loại "
        "vườn và nhu cầu hỗ trợ, và ngày khảo sát; khổ A4 ngang có phần ký tên. Và "
        "OUT/qfield/khao_sat_vuon.gpkg + .qgz, một dự án QField để khảo sát bằng điện "
        "thoại. 'ntmgis survey' và 'ntmgis run' đọc lại phiếu đã điền (hoặc GeoPackage).",
        "outdir": "Thư mục ghi kết quả.",
        "layer": "Lớp của tệp thửa đất nhiều lớp.",
        "hamlets": "Chỉ thôn này (dùng nhiều lần cho nhiều thôn; viết như dữ liệu viết, không "
        "phân biệt dấu và chữ hoa). Mặc định: mọi thôn.",
        "codebook": "Tệp bộ mã TOML (loại vườn và nhu cầu hỗ trợ); mặc định: của ntmgis.",
        "commune": "Tên xã ở dòng phụ đề của phiếu.",
        "no_qfield": "Chỉ ghi phiếu XLSX, không ghi dự án QField.",
    },
    "zonal": {
        "": "Thống kê từng thửa đất của RASTERS (một hay nhiều tệp trên cùng một lưới).\n\n"
        "Mỗi điểm ảnh được tính theo đúng phần diện tích nằm trong từng thửa; phần phủ được "
        "tính một lần và dùng lại cho mọi kênh và mọi tệp. Các cột được đặt tên "
        '"<lớp>:<thống kê>", kèm status và coverage_fraction của từng thửa.',
        "output": "Bảng kết quả: .csv (UTF-8) hoặc .gpkg (thửa đất kèm thống kê).",
        "layer": "Lớp của PARCELS (GeoPackage), ví dụ 'parcels'.",
        "stats": "Các thống kê, cách nhau bằng dấu phẩy: mean, sum, std, min, max, median, "
        "pNN (ví dụ p10), count, valid, above_T / below_T (ví dụ above_0.5).",
        "weights": "Phần phủ chính xác của điểm ảnh, hoặc các điểm ảnh có tâm nằm trong "
        "thửa / chạm vào thửa.",
        "nodata": "Giá trị cần bỏ qua ở mọi lớp.",
    },
}
