<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="vi_VN" sourcelanguage="en">
  <context>
    <name>ntmgis</name>
    <message>
      <source>1 · Survey and imagery</source>
      <translation>1 · Khảo sát và ảnh vệ tinh</translation>
    </message>
    <message>
      <source>2 · Gardens and hamlets</source>
      <translation>2 · Vườn hộ và thôn</translation>
    </message>
    <message>
      <source>3 · Printing</source>
      <translation>3 · In bản đồ</translation>
    </message>
    <message>
      <source>Period (START:END, e.g. 2020-01-01:2020-12-31)</source>
      <translation>Thời kỳ (BẮT ĐẦU:KẾT THÚC, ví dụ 2020-01-01:2020-12-31)</translation>
    </message>
    <message>
      <source>Cancelled by the user: nothing was written.</source>
      <translation>Người dùng đã hủy: không ghi tệp nào.</translation>
    </message>
    <message>
      <source>Parcel layer</source>
      <translation>Lớp thửa đất</translation>
    </message>
    <message>
      <source>Survey file (CSV or XLSX)</source>
      <translation>Tệp khảo sát (CSV hoặc XLSX)</translation>
    </message>
    <message>
      <source>Hamlet targets (CSV or XLSX)</source>
      <translation>Chỉ tiêu các thôn (CSV hoặc XLSX)</translation>
    </message>
    <message>
      <source>Result GeoPackage of the flag run</source>
      <translation>Tệp GeoPackage kết quả phân loại vườn</translation>
    </message>
    <message>
      <source>Baseline result of an earlier campaign (GeoPackage)</source>
      <translation>Kết quả đợt trước làm mốc (GeoPackage)</translation>
    </message>
    <message>
      <source>Commune name</source>
      <translation>Tên xã</translation>
    </message>
    <message>
      <source>Hamlets (comma-separated; empty: every hamlet)</source>
      <translation>Các thôn (cách nhau bằng dấu phẩy; để trống: tất cả các thôn)</translation>
    </message>
    <message>
      <source>Paper</source>
      <translation>Khổ giấy</translation>
    </message>
    <message>
      <source>Cancelling…</source>
      <translation>Đang hủy…</translation>
    </message>
    <message>
      <source>Fetch Sentinel-2 imagery for the commune</source>
      <translation>Tải ảnh Sentinel-2 cho xã</translation>
    </message>
    <message>
      <source>Searches a free public STAC catalogue (Earth Search by default, no account) for the scenes of the period over the commune, keeps the dates whose own pixels over the commune are clear enough, and writes one folder per date with one Cloud-Optimised GeoTIFF per band, clipped to the commune on the source pixel grid, and its STAC item. Only the commune's window is downloaded (a few MB per date). The output folder is the imagery folder of "Flag abandoned gardens"; running again skips the dates already complete and finishes the ones that were cut.</source>
      <translation>Tìm trong một danh mục STAC công khai, miễn phí (mặc định Earth Search, không cần tài khoản) các cảnh ảnh của khoảng thời gian phủ lên xã, giữ lại những ngày mà chính các điểm ảnh trên xã đủ quang mây, rồi ghi mỗi ngày một thư mục gồm một tệp Cloud-Optimised GeoTIFF cho mỗi kênh, cắt theo xã trên đúng lưới điểm ảnh gốc, kèm mục STAC của nó. Chỉ phần ảnh phủ xã được tải về (vài MB mỗi ngày). Thư mục kết quả là thư mục ảnh của "Phát hiện vườn hoang hóa"; chạy lại sẽ bỏ qua những ngày đã tải đủ và tải tiếp những ngày bị ngắt giữa chừng.</translation>
    </message>
    <message>
      <source>Commune boundary (or the parcel layer)</source>
      <translation>Ranh giới xã (hoặc lớp thửa đất)</translation>
    </message>
    <message>
      <source>Catalogue</source>
      <translation>Danh mục ảnh</translation>
    </message>
    <message>
      <source>Other STAC API URL (replaces the catalogue)</source>
      <translation>Địa chỉ STAC API khác (thay cho danh mục)</translation>
    </message>
    <message>
      <source>Collection</source>
      <translation>Bộ sưu tập ảnh</translation>
    </message>
    <message>
      <source>Imagery folder</source>
      <translation>Thư mục ảnh vệ tinh</translation>
    </message>
    <message>
      <source>Maximum cloud over the commune (%)</source>
      <translation>Tỷ lệ mây tối đa trên xã (%)</translation>
    </message>
    <message>
      <source>Scenes fetched</source>
      <translation>Số cảnh đã tải</translation>
    </message>
    <message>
      <source>Flag abandoned gardens (whole chain)</source>
      <translation>Phát hiện vườn hoang hóa (toàn bộ quy trình)</translation>
    </message>
    <message>
      <source>Runs the whole ntmgis chain on one commune: parcels, survey join, masked Sentinel-2 indices, exact per-parcel statistics and time-series features, flags calibrated on the survey, survey/imagery agreement, hamlet counts and (with targets) hamlet progress, then writes one styled GeoPackage, the progress report and the printed hamlet maps. Nothing is written when the run is cancelled.</source>
      <translation>Chạy toàn bộ quy trình ntmgis cho một xã: thửa đất, ghép số liệu khảo sát, chỉ số Sentinel-2 đã loại mây, thống kê chính xác theo thửa và đặc trưng chuỗi thời gian, phân loại được hiệu chỉnh theo khảo sát, đối chiếu khảo sát với ảnh vệ tinh, tổng hợp theo thôn và (khi có chỉ tiêu) tiến độ các thôn; sau đó ghi một tệp GeoPackage đã có kiểu hiển thị, báo cáo tiến độ và bản đồ in theo thôn. Khi hủy, không tệp nào được ghi.</translation>
    </message>
    <message>
      <source>Imagery folder (one folder per scene, or STAC)</source>
      <translation>Thư mục ảnh vệ tinh (mỗi cảnh một thư mục, hoặc STAC)</translation>
    </message>
    <message>
      <source>Hamlet boundaries</source>
      <translation>Ranh giới thôn</translation>
    </message>
    <message>
      <source>Flag thresholds</source>
      <translation>Ngưỡng phân loại</translation>
    </message>
    <message>
      <source>Co-register the dates (undo each scene's sub-pixel shift)</source>
      <translation>Khớp các ngày ảnh với nhau (bù độ lệch dưới một điểm ảnh của từng ảnh)</translation>
    </message>
    <message>
      <source>Print the hamlet maps (PDF)</source>
      <translation>In bản đồ các thôn (PDF)</translation>
    </message>
    <message>
      <source>Output name</source>
      <translation>Tên tệp kết quả</translation>
    </message>
    <message>
      <source>Year</source>
      <translation>Năm</translation>
    </message>
    <message>
      <source>calibrated on the survey when it has enough labels</source>
      <translation>hiệu chỉnh theo khảo sát khi có đủ mẫu</translation>
    </message>
    <message>
      <source>fixed rules</source>
      <translation>quy tắc cố định</translation>
    </message>
    <message>
      <source>Result GeoPackage</source>
      <translation>Tệp GeoPackage kết quả</translation>
    </message>
    <message>
      <source>Flagged parcels</source>
      <translation>Thửa đất đã phân loại</translation>
    </message>
    <message>
      <source>Hamlets</source>
      <translation>Thôn</translation>
    </message>
    <message>
      <source>Progress report (XLSX)</source>
      <translation>Báo cáo tiến độ (XLSX)</translation>
    </message>
    <message>
      <source>Hamlet maps (PDF)</source>
      <translation>Bản đồ các thôn (PDF)</translation>
    </message>
    <message>
      <source>Hamlet progress and ranking</source>
      <translation>Tiến độ và xếp hạng các thôn</translation>
    </message>
    <message>
      <source>Counts each hamlet's gardens by survey class and flag, measures them against the hamlet targets (abandoned gardens brought back into use, share of gardens meeting the standard, model gardens), ranks the hamlets and writes the progress report (XLSX and CSV) and the hamlets coloured by progress.</source>
      <translation>Đếm vườn của từng thôn theo loại khảo sát và kết quả phân loại, so với chỉ tiêu của thôn (vườn hoang hóa đưa vào sử dụng, tỷ lệ vườn đạt chuẩn, vườn mẫu), xếp hạng các thôn, ghi báo cáo tiến độ (XLSX và CSV) và lớp thôn tô màu theo tiến độ.</translation>
    </message>
    <message>
      <source>Renovations that count</source>
      <translation>Vườn cải tạo được tính</translation>
    </message>
    <message>
      <source>Hamlet progress</source>
      <translation>Tiến độ các thôn</translation>
    </message>
    <message>
      <source>confirmed by the imagery</source>
      <translation>được ảnh vệ tinh xác nhận</translation>
    </message>
    <message>
      <source>every reported one</source>
      <translation>mọi vườn được báo cáo</translation>
    </message>
    <message>
      <source>Join the garden survey to parcels</source>
      <translation>Ghép số liệu khảo sát vườn vào thửa đất</translation>
    </message>
    <message>
      <source>Joins the Step 2 garden survey (CSV or XLSX, Vietnamese headers with or without diacritics) to the parcels by map sheet and parcel number, household id or GPS point. Every parcel is kept with a survey status; unmatched survey rows and every repair are written to their own layers.</source>
      <translation>Ghép số liệu khảo sát vườn Bước 2 (CSV hoặc XLSX, tiêu đề tiếng Việt có dấu hoặc không dấu) vào thửa đất theo số tờ và số thửa, mã hộ hoặc điểm GPS. Mọi thửa đều được giữ lại kèm trạng thái khảo sát; các dòng khảo sát không ghép được và mọi chỉnh sửa được ghi vào lớp riêng.</translation>
    </message>
    <message>
      <source>Survey columns ntmgis does not recognise (field = header; e.g. garden_class = Kết quả chấm điểm; sheet = Mảnh BĐ)</source>
      <translation>Các cột khảo sát ntmgis chưa nhận ra (trường = tiêu đề cột; ví dụ garden_class = Kết quả chấm điểm; sheet = Mảnh BĐ)</translation>
    </message>
    <message>
      <source>Worksheet (XLSX; empty: found automatically)</source>
      <translation>Trang tính (XLSX; để trống: tự tìm)</translation>
    </message>
    <message>
      <source>Join by</source>
      <translation>Ghép theo</translation>
    </message>
    <message>
      <source>Joined parcels</source>
      <translation>Thửa đất đã ghép</translation>
    </message>
    <message>
      <source>Parcels with survey</source>
      <translation>Thửa đất kèm khảo sát</translation>
    </message>
    <message>
      <source>automatic</source>
      <translation>tự động</translation>
    </message>
    <message>
      <source>map sheet and parcel number</source>
      <translation>số tờ và số thửa</translation>
    </message>
    <message>
      <source>household id</source>
      <translation>mã hộ</translation>
    </message>
    <message>
      <source>GPS point</source>
      <translation>điểm GPS</translation>
    </message>
    <message>
      <source>Survey rows matched</source>
      <translation>Số dòng khảo sát ghép được</translation>
    </message>
    <message>
      <source>Survey rows unmatched</source>
      <translation>Số dòng khảo sát không ghép được</translation>
    </message>
    <message>
      <source>Parcel statistics</source>
      <translation>Thống kê theo thửa</translation>
    </message>
    <message>
      <source>Statistics of every band of the rasters for every parcel, each pixel weighted by the exact share of its area inside the parcel; the coverage is computed once and reused for every band. Columns are named 'band:statistic'; every parcel is kept, with a status and the covered fraction. The same file as 'ntmgis zonal': a GeoPackage (layer parcels) or a CSV table, written whole or not at all.</source>
      <translation>Thống kê mọi kênh ảnh cho từng thửa, mỗi điểm ảnh được tính theo đúng phần diện tích nằm trong thửa; độ phủ được tính một lần và dùng lại cho mọi kênh. Cột được đặt tên 'kênh:thống kê'; mọi thửa đều được giữ lại, kèm trạng thái và tỷ lệ được phủ. Cùng tệp như lệnh 'ntmgis zonal': một GeoPackage (lớp parcels) hoặc một bảng CSV, được ghi trọn vẹn hoặc không ghi gì.</translation>
    </message>
    <message>
      <source>Statistics (comma-separated)</source>
      <translation>Các thống kê (cách nhau bằng dấu phẩy)</translation>
    </message>
    <message>
      <source>Pixel weights</source>
      <translation>Trọng số điểm ảnh</translation>
    </message>
    <message>
      <source>Parcels with statistics</source>
      <translation>Thửa đất kèm thống kê</translation>
    </message>
    <message>
      <source>Rasters (one grid)</source>
      <translation>Ảnh raster (cùng một lưới)</translation>
    </message>
    <message>
      <source>exact coverage</source>
      <translation>độ phủ chính xác</translation>
    </message>
    <message>
      <source>pixel centre inside</source>
      <translation>tâm điểm ảnh nằm trong thửa</translation>
    </message>
    <message>
      <source>all touched pixels</source>
      <translation>mọi điểm ảnh chạm thửa</translation>
    </message>
    <message>
      <source>Value to mask in every raster</source>
      <translation>Giá trị cần loại bỏ trong mọi lớp ảnh</translation>
    </message>
    <message>
      <source>Print hamlet atlas through QGIS (A3)</source>
      <translation>In tập bản đồ thôn bằng QGIS (A3)</translation>
    </message>
    <message>
      <source>Prints one A3 page per hamlet with QGIS's layout engine from the template hamlet_a3.qpt: the hamlet's parcels in the run's style, legend, scale bar, north arrow, title, the table of households to visit and a signature block. Edit the template in QGIS's layout designer to change the page.</source>
      <translation>In mỗi thôn một trang A3 bằng công cụ trình bày của QGIS từ mẫu hamlet_a3.qpt: các thửa của thôn theo kiểu hiển thị của kết quả, chú giải, thước tỷ lệ, mũi tên chỉ hướng bắc, tiêu đề, bảng các hộ cần kiểm tra và phần ký tên. Sửa mẫu trong trình thiết kế bản in của QGIS để thay đổi trang in.</translation>
    </message>
    <message>
      <source>Layout template (empty: hamlet_a3.qpt)</source>
      <translation>Mẫu trình bày (để trống: hamlet_a3.qpt)</translation>
    </message>
    <message>
      <source>Atlas PDF</source>
      <translation>Tập bản đồ PDF</translation>
    </message>
    <message>
      <source>Pages</source>
      <translation>Số trang</translation>
    </message>
    <message>
      <source>{0} pages written to {1}</source>
      <translation>Đã ghi {0} trang vào {1}</translation>
    </message>
    <message>
      <source>Print hamlet maps (PDF)</source>
      <translation>In bản đồ các thôn (PDF)</translation>
    </message>
    <message>
      <source>Prints the village maps of a flag run as one PDF: a commune overview and, for each hamlet, a map of its parcels coloured by the chosen theme with the list of households to visit, Vietnamese legend, scale bar, north arrow and signature lines. Drawn by the ntmgis library, the same maps as 'ntmgis maps'.</source>
      <translation>In bản đồ của kết quả phân loại thành một tệp PDF: bản đồ tổng thể xã và, cho từng thôn, bản đồ các thửa tô màu theo chủ đề đã chọn kèm danh sách hộ cần kiểm tra, chú giải tiếng Việt, thước tỷ lệ, mũi tên chỉ hướng bắc và phần ký tên. Do thư viện ntmgis vẽ, giống bản đồ của lệnh 'ntmgis maps'.</translation>
    </message>
    <message>
      <source>Colour the parcels by</source>
      <translation>Tô màu thửa theo</translation>
    </message>
    <message>
      <source>Also one PNG per page</source>
      <translation>Thêm mỗi trang một tệp PNG</translation>
    </message>
    <message>
      <source>imagery flag</source>
      <translation>phân loại theo ảnh vệ tinh</translation>
    </message>
    <message>
      <source>survey class</source>
      <translation>loại vườn theo khảo sát</translation>
    </message>
    <message>
      <source>survey/imagery agreement</source>
      <translation>đối chiếu khảo sát và ảnh vệ tinh</translation>
    </message>
    <message>
      <source>Renovation plan, needs and commendations</source>
      <translation>Kế hoạch cải tạo vườn, nhu cầu hỗ trợ và đề nghị khen thưởng</translation>
    </message>
    <message>
      <source>Writes the commune's renovation plan (Step 4): per hamlet, the households to renovate first (abandoned gardens, then mixed gardens) with area, owner, needs and the imagery evidence, as a printable sheet and a layer; the households' needs (Step 3); and, with a baseline campaign, the proposed commendations (Step 6) and the earlier plan measured: planned against done.</source>
      <translation>Lập kế hoạch cải tạo vườn của xã (bước 4): mỗi thôn, các hộ cần cải tạo trước (vườn hoang hóa, rồi vườn tạp) với diện tích, chủ hộ, nhu cầu hỗ trợ và căn cứ từ ảnh vệ tinh, thành bảng in và lớp bản đồ; tổng hợp nhu cầu của các hộ (bước 3); và khi có đợt khảo sát trước, danh sách đề nghị khen thưởng (bước 6) và kết quả thực hiện kế hoạch trước: kế hoạch so với thực tế.</translation>
    </message>
    <message>
      <source>Renovation plan</source>
      <translation>Kế hoạch cải tạo vườn</translation>
    </message>
    <message>
      <source>Renovation plan (XLSX)</source>
      <translation>Kế hoạch cải tạo vườn (XLSX)</translation>
    </message>
    <message>
      <source>Survey forms for the garden survey (XLSX and QField)</source>
      <translation>Phiếu khảo sát vườn hộ (XLSX và QField)</translation>
    </message>
    <message>
      <source>Writes the Step 2 survey forms: per hamlet, a workbook pre-filled with each garden parcel (map sheet, parcel number, owner, area, land use) with drop-down lists for the garden class and the needs, printable on A4 landscape with a signature block; and a QField project (GeoPackage and .qgz) for the survey on a phone. The filled forms are read back by the survey join.</source>
      <translation>Lập phiếu khảo sát bước 2: mỗi thôn một bảng tính ghi sẵn từng thửa vườn (số tờ, số thửa, chủ hộ, diện tích, loại đất), có danh sách chọn loại vườn và nhu cầu hỗ trợ, in khổ A4 ngang, có phần ký xác nhận; và một dự án QField (GeoPackage và .qgz) để khảo sát trên điện thoại. Phiếu đã điền được đọc lại khi ghép kết quả khảo sát.</translation>
    </message>
    <message>
      <source>Codebook (TOML; empty: the default classes and needs)</source>
      <translation>Bộ mã (TOML; để trống: loại vườn và nhu cầu mặc định)</translation>
    </message>
    <message>
      <source>Also write a QField project</source>
      <translation>Ghi thêm dự án QField</translation>
    </message>
    <message>
      <source>Survey forms</source>
      <translation>Phiếu khảo sát</translation>
    </message>
    <message>
      <source>QField project</source>
      <translation>Dự án QField</translation>
    </message>
    <message>
      <source>Vegetation indices from scenes</source>
      <translation>Chỉ số thực vật từ ảnh vệ tinh</translation>
    </message>
    <message>
      <source>Reads Sentinel-2 L2A (or Landsat) scenes from a folder or a STAC file, masks clouds, shadows and no data, and writes for every index its time series (one band per date) and its composite over the period (median, max, min, amplitude and number of clear observations) as Cloud-Optimised GeoTIFFs, with scenes.csv listing every scene read or skipped: the same files as 'ntmgis indices'. Scenes of two UTM zones are never resampled into one grid: each grid gets its own files (&lt;index&gt;_composite_&lt;crs&gt;.tif).</source>
      <translation>Đọc các cảnh Sentinel-2 L2A (hoặc Landsat) từ một thư mục hoặc tệp STAC, loại mây, bóng mây và vùng không có dữ liệu, rồi ghi cho từng chỉ số chuỗi thời gian (mỗi ngày một kênh) và ảnh tổng hợp trong thời kỳ (trung vị, lớn nhất, nhỏ nhất, biên độ và số lần quan sát không mây) dưới dạng Cloud-Optimised GeoTIFF, kèm tệp scenes.csv liệt kê mọi cảnh đã đọc hoặc bỏ qua: cùng các tệp như lệnh 'ntmgis indices'. Cảnh thuộc hai múi UTM không bao giờ bị nắn về một lưới: mỗi lưới có tệp riêng (&lt;chỉ số&gt;_composite_&lt;crs&gt;.tif).</translation>
    </message>
    <message>
      <source>Scenes folder</source>
      <translation>Thư mục ảnh vệ tinh</translation>
    </message>
    <message>
      <source>Area of interest (e.g. the commune)</source>
      <translation>Vùng quan tâm (ví dụ ranh giới xã)</translation>
    </message>
    <message>
      <source>Indices</source>
      <translation>Các chỉ số</translation>
    </message>
    <message>
      <source>Pixel size</source>
      <translation>Kích thước điểm ảnh</translation>
    </message>
    <message>
      <source>Also the time series (one band per date)</source>
      <translation>Ghi cả chuỗi thời gian (mỗi ngày một kênh)</translation>
    </message>
    <message>
      <source>finest band</source>
      <translation>kênh mịn nhất</translation>
    </message>
    <message>
      <source>Index composite</source>
      <translation>Ảnh tổng hợp chỉ số</translation>
    </message>
    <message>
      <source>Index composites</source>
      <translation>Các ảnh tổng hợp chỉ số</translation>
    </message>
    <message>
      <source>Scenes read (CSV)</source>
      <translation>Danh sách cảnh đã đọc (CSV)</translation>
    </message>
    <message>
      <source>Scenes read</source>
      <translation>Số cảnh đã đọc</translation>
    </message>
    <message>
      <source>{0} scene(s) read, {1} skipped.</source>
      <translation>Đã đọc {0} cảnh, bỏ qua {1} cảnh.</translation>
    </message>
    <message>
      <source>{0}: {1} clear pixels</source>
      <translation>{0}: {1} điểm ảnh không mây</translation>
    </message>
    <message>
      <source>Hamlet maps</source>
      <translation>Bản đồ các thôn</translation>
    </message>
    <message>
      <source>The item 'map' of the layout template is not a map.</source>
      <translation>Đối tượng 'map' của mẫu trình bày không phải là bản đồ.</translation>
    </message>
    <message>
      <source>The layout template has no table of households to visit.</source>
      <translation>Mẫu trình bày không có bảng các hộ cần kiểm tra.</translation>
    </message>
    <message>
      <source>The layout has no atlas over the hamlets.</source>
      <translation>Bản trình bày không có tập bản đồ theo thôn.</translation>
    </message>
    <message>
      <source>The layout template {0} is missing from the plugin.</source>
      <translation>Plugin thiếu mẫu trình bày {0}.</translation>
    </message>
    <message>
      <source>QGIS could not add the layers of '{0}' to the atlas.</source>
      <translation>QGIS không thêm được các lớp của '{0}' vào tập bản đồ.</translation>
    </message>
    <message>
      <source>QGIS could not load the layout template '{0}'.</source>
      <translation>QGIS không mở được mẫu trình bày '{0}'.</translation>
    </message>
    <message>
      <source>The layout template '{0}' lacks the items: {1}.</source>
      <translation>Mẫu trình bày '{0}' thiếu các đối tượng: {1}.</translation>
    </message>
    <message>
      <source>QGIS could not export the atlas to '{0}' (result code {1}): {2}</source>
      <translation>QGIS không xuất được tập bản đồ ra '{0}' (mã kết quả {1}): {2}</translation>
    </message>
    <message>
      <source>no detail given</source>
      <translation>không có thông tin chi tiết</translation>
    </message>
    <message>
      <source>'{0}' has no valid layer '{1}': give the GeoPackage of a flag run.</source>
      <translation>'{0}' không có lớp hợp lệ '{1}': hãy chọn tệp GeoPackage kết quả phân loại vườn.</translation>
    </message>
    <message>
      <source>The layout template '{0}' is not valid XML.</source>
      <translation>Mẫu trình bày '{0}' không phải XML hợp lệ.</translation>
    </message>
    <message>
      <source>ntmgis and its libraries are installed.</source>
      <translation>ntmgis và các thư viện cần thiết đã được cài đặt.</translation>
    </message>
    <message>
      <source>Menu NTM GIS &gt; Install the libraries installs them into this QGIS profile (pinned versions, each checked against its SHA-256; nothing else changes).</source>
      <translation>Menu NTM GIS &gt; Cài đặt thư viện sẽ cài chúng vào hồ sơ QGIS này (phiên bản cố định, mỗi gói được kiểm tra mã SHA-256; không thay đổi gì khác).</translation>
    </message>
    <message>
      <source>Then restart QGIS.</source>
      <translation>Sau đó khởi động lại QGIS.</translation>
    </message>
    <message>
      <source>no feature</source>
      <translation>không có đối tượng</translation>
    </message>
    <message>
      <source>The NTM GIS plugin needs Python libraries that QGIS cannot import:</source>
      <translation>Plugin NTM GIS cần các thư viện Python mà QGIS chưa nạp được:</translation>
    </message>
    <message>
      <source>Or, for experts: close QGIS, open the OSGeo4W Shell and run:</source>
      <translation>Hoặc, dành cho người thành thạo: đóng QGIS, mở OSGeo4W Shell và chạy:</translation>
    </message>
    <message>
      <source>Or, for experts: close QGIS, open a terminal and run:</source>
      <translation>Hoặc, dành cho người thành thạo: đóng QGIS, mở cửa sổ dòng lệnh (terminal) và chạy:</translation>
    </message>
    <message>
      <source>QGIS: GEOS {0}, GDAL {1}, PROJ {2}</source>
      <translation>QGIS: GEOS {0}, GDAL {1}, PROJ {2}</translation>
    </message>
    <message>
      <source>write a GeoPackage</source>
      <translation>ghi một GeoPackage</translation>
    </message>
    <message>
      <source>read it with ntmgis</source>
      <translation>đọc lại bằng ntmgis</translation>
    </message>
    <message>
      <source>reproject to WGS 84 and write</source>
      <translation>chuyển sang WGS 84 và ghi</translation>
    </message>
    <message>
      <source>QGIS reads it and agrees</source>
      <translation>QGIS đọc được và kết quả khớp</translation>
    </message>
    <message>
      <source>version {0} is too old (2.0 or later needed)</source>
      <translation>phiên bản {0} quá cũ (cần 2.0 trở lên)</translation>
    </message>
    <message>
      <source>shapely {0} is built for GEOS {1}, but this QGIS runs GEOS {2}: inside QGIS shapely's calls reach QGIS's GEOS and fail ("WKB output dimension must be 2 or 3"). Install shapely below 2.1 (menu NTM GIS &gt; Install the libraries does).</source>
      <translation>shapely {0} được biên dịch cho GEOS {1}, nhưng QGIS này chạy GEOS {2}: bên trong QGIS, các lệnh của shapely đi tới GEOS của QGIS và bị lỗi ("WKB output dimension must be 2 or 3"). Hãy cài shapely dưới 2.1 (menu NTM GIS &gt; Cài đặt thư viện làm việc này).</translation>
    </message>
    <message>
      <source>Python libraries: {0}</source>
      <translation>Thư viện Python: {0}</translation>
    </message>
    <message>
      <source>smoke test</source>
      <translation>kiểm tra chạy thử</translation>
    </message>
    <message>
      <source>rasterio cannot build a transform ({0}): upgrade attrs</source>
      <translation>rasterio không tạo được phép biến đổi tọa độ ({0}): hãy nâng cấp attrs</translation>
    </message>
    <message>
      <source>not installed</source>
      <translation>chưa được cài đặt</translation>
    </message>
    <message>
      <source>Vườn hoang hóa – flag abandoned gardens</source>
      <translation>Vườn hoang hóa – phát hiện vườn hoang hóa</translation>
    </message>
    <message>
      <source>Survey tables (*.xlsx *.csv)</source>
      <translation>Bảng khảo sát (*.xlsx *.csv)</translation>
    </message>
    <message>
      <source>Tables (*.xlsx *.csv)</source>
      <translation>Bảng (*.xlsx *.csv)</translation>
    </message>
    <message>
      <source>e.g. Xã Thanh Bình</source>
      <translation>ví dụ: Xã Thanh Bình</translation>
    </message>
    <message>
      <source>Commune</source>
      <translation>Xã</translation>
    </message>
    <message>
      <source>Download…</source>
      <translation>Tải ảnh…</translation>
    </message>
    <message>
      <source>Download Sentinel-2 scenes of the commune</source>
      <translation>Tải ảnh Sentinel-2 cho xã</translation>
    </message>
    <message>
      <source>Period</source>
      <translation>Thời kỳ</translation>
    </message>
    <message>
      <source>Hamlet boundaries (optional)</source>
      <translation>Ranh giới thôn (không bắt buộc)</translation>
    </message>
    <message>
      <source>Hamlet targets (optional)</source>
      <translation>Chỉ tiêu các thôn (không bắt buộc)</translation>
    </message>
    <message>
      <source>Output folder</source>
      <translation>Thư mục kết quả</translation>
    </message>
    <message>
      <source>Run</source>
      <translation>Chạy</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>Hủy</translation>
    </message>
    <message>
      <source>Running… (you can keep working in QGIS)</source>
      <translation>Đang chạy… (có thể tiếp tục làm việc trong QGIS)</translation>
    </message>
    <message>
      <source>No dated scenes found in this folder.</source>
      <translation>Không tìm thấy cảnh ảnh nào có ngày chụp trong thư mục này.</translation>
    </message>
    <message>
      <source>The folder {0} already holds results ({1}). Replace them?</source>
      <translation>Thư mục {0} đã có kết quả ({1}). Ghi đè lên chúng?</translation>
    </message>
    <message>
      <source>Choose the parcel layer.</source>
      <translation>Hãy chọn lớp thửa đất.</translation>
    </message>
    <message>
      <source>Choose the imagery folder.</source>
      <translation>Hãy chọn thư mục ảnh vệ tinh.</translation>
    </message>
    <message>
      <source>Choose the output folder.</source>
      <translation>Hãy chọn thư mục kết quả.</translation>
    </message>
    <message>
      <source>Type the commune's name (it titles the maps and the report).</source>
      <translation>Nhập tên xã (dùng làm tiêu đề bản đồ và báo cáo).</translation>
    </message>
    <message>
      <source>The NTM GIS Processing provider is not loaded.</source>
      <translation>Bộ công cụ Processing NTM GIS chưa được nạp.</translation>
    </message>
    <message>
      <source>Nothing was run: the earlier results are kept.</source>
      <translation>Chưa chạy: kết quả trước được giữ nguyên.</translation>
    </message>
    <message>
      <source>Cancelled: nothing was written.</source>
      <translation>Đã hủy: không ghi tệp nào.</translation>
    </message>
    <message>
      <source>Done: {0}</source>
      <translation>Xong: {0}</translation>
    </message>
    <message>
      <source>{0} scenes from {1} to {2}.</source>
      <translation>{0} cảnh ảnh từ {1} đến {2}.</translation>
    </message>
    <message>
      <source>Running: {0} (you can keep working in QGIS)</source>
      <translation>Đang chạy: {0} (có thể tiếp tục làm việc trong QGIS)</translation>
    </message>
    <message>
      <source>The run stopped: {0}</source>
      <translation>Quá trình chạy đã dừng: {0}</translation>
    </message>
    <message>
      <source>({0} warnings, listed below)</source>
      <translation>({0} cảnh báo, xem bên dưới)</translation>
    </message>
    <message>
      <source>Installing the libraries…</source>
      <translation>Đang cài đặt thư viện…</translation>
    </message>
    <message>
      <source>NTM GIS – install the libraries</source>
      <translation>NTM GIS – cài đặt thư viện</translation>
    </message>
    <message>
      <source>NTM GIS</source>
      <translation>NTM GIS</translation>
    </message>
    <message>
      <source>NTM GIS needs the ntmgis library and {0} Python libraries QGIS lacks:
{1}.

They will be downloaded from PyPI (the Python package index), each checked against its SHA-256, and installed into this QGIS profile only:
{2}

QGIS's own files are not changed; deleting that folder undoes it. Install now?</source>
      <translation>NTM GIS cần thư viện ntmgis và {0} thư viện Python mà QGIS chưa có:
{1}.

Chúng sẽ được tải từ PyPI (kho gói Python), mỗi gói được kiểm tra mã SHA-256, và chỉ được cài vào hồ sơ QGIS này:
{2}

Các tệp của QGIS không bị thay đổi; xóa thư mục đó là gỡ bỏ. Cài đặt ngay?</translation>
    </message>
    <message>
      <source>Installed into {0}. Restart QGIS to use them ({1} was already loaded).</source>
      <translation>Đã cài vào {0}. Hãy khởi động lại QGIS để dùng (đã nạp sẵn {1}).</translation>
    </message>
    <message>
      <source>Installed into {0}. NTM GIS is ready.</source>
      <translation>Đã cài vào {0}. NTM GIS đã sẵn sàng.</translation>
    </message>
    <message>
      <source>The plugin has no ntmgis wheel (wheels/SHA256SUMS is missing): install the ZIP that 'make plugin' builds.</source>
      <translation>Plugin không có gói ntmgis (thiếu wheels/SHA256SUMS): hãy cài tệp ZIP do 'make plugin' tạo ra.</translation>
    </message>
    <message>
      <source>QGIS's Python has no pip. On Debian/Ubuntu install the package python3-pip (Software / Synaptic), then run the installer again.</source>
      <translation>Python của QGIS không có pip. Trên Debian/Ubuntu hãy cài gói python3-pip (Software / Synaptic), rồi chạy lại trình cài đặt.</translation>
    </message>
    <message>
      <source>Installation cancelled: nothing was changed.</source>
      <translation>Đã hủy cài đặt: không có gì thay đổi.</translation>
    </message>
    <message>
      <source>QGIS's Python interpreter (Python {0}) was not found next to QGIS.</source>
      <translation>Không tìm thấy trình thông dịch Python của QGIS (Python {0}) bên cạnh QGIS.</translation>
    </message>
    <message>
      <source>The ntmgis wheel {0} does not match its SHA-256 (the ZIP is damaged): download the plugin again.</source>
      <translation>Gói ntmgis {0} không khớp mã SHA-256 (tệp ZIP bị hỏng): hãy tải lại plugin.</translation>
    </message>
    <message>
      <source>pip could not install the libraries (exit code {0}); the log is {1}.</source>
      <translation>pip không cài được thư viện (mã thoát {0}); nhật ký ở {1}.</translation>
    </message>
    <message>
      <source>Installed into {0}</source>
      <translation>Đã cài vào {0}</translation>
    </message>
    <message>
      <source>Downloading {0}</source>
      <translation>Đang tải {0}</translation>
    </message>
    <message>
      <source>Installing…</source>
      <translation>Đang cài đặt…</translation>
    </message>
    <message>
      <source>Vườn hoang hóa</source>
      <translation>Vườn hoang hóa</translation>
    </message>
    <message>
      <source>Flag abandoned gardens of a commune (survey + Sentinel-2)</source>
      <translation>Phát hiện vườn hoang hóa của xã (khảo sát + Sentinel-2)</translation>
    </message>
    <message>
      <source>Check the ntmgis installation</source>
      <translation>Kiểm tra cài đặt ntmgis</translation>
    </message>
    <message>
      <source>Install the libraries</source>
      <translation>Cài đặt thư viện</translation>
    </message>
    <message>
      <source>ntmgis or its libraries are missing: menu NTM GIS &gt; Install the libraries installs them (Check the ntmgis installation says what is missing).</source>
      <translation>Thiếu ntmgis hoặc thư viện của nó: menu NTM GIS &gt; Cài đặt thư viện sẽ cài chúng (Kiểm tra cài đặt ntmgis cho biết còn thiếu gì).</translation>
    </message>
    <message>
      <source>Smoke test (read, reproject, write a GeoPackage):</source>
      <translation>Kiểm tra chạy thử (đọc, chuyển hệ tọa độ, ghi GeoPackage):</translation>
    </message>
    <message>
      <source>NTM GIS: gardens and hamlets for the New Rural Development programme</source>
      <translation>NTM GIS: vườn hộ và thôn cho chương trình xây dựng nông thôn mới</translation>
    </message>
  </context>
</TS>
