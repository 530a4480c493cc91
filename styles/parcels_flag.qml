<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Labeling" labelsEnabled="1">
  <renderer-v2 type="categorizedSymbol" attr="CASE WHEN attribute('is_garden') IS NOT NULL AND NOT attribute('is_garden') THEN 'khong_phai_vuon' WHEN &quot;flag&quot; IN ('hoang_hoa', 'cai_tao', 'nghi_van', 'binh_thuong', 'thieu_du_lieu') THEN &quot;flag&quot; ELSE 'thieu_du_lieu' END" forceraster="0" symbollevels="0" enableorderby="0">
    <categories>
      <category value="hoang_hoa" label="Vườn hoang hóa" symbol="0" render="true" />
      <category value="cai_tao" label="Vườn cải tạo trong mùa" symbol="1" render="true" />
      <category value="nghi_van" label="Nghi vấn hoang hóa" symbol="2" render="true" />
      <category value="binh_thuong" label="Vườn có canh tác" symbol="3" render="true" />
      <category value="thieu_du_lieu" label="Thiếu dữ liệu ảnh" symbol="4" render="true" />
      <category value="khong_phai_vuon" label="Không phải vườn (lúa, ao...)" symbol="5" render="true" />
    </categories>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="136,34,85,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="136,34,85,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
      <symbol name="1" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="0,119,187,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="0,119,187,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
      <symbol name="2" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="238,119,51,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="238,119,51,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
      <symbol name="3" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="153,204,102,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="153,204,102,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
      <symbol name="4" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="255,255,255,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="255,255,255,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
        <layer class="LinePatternFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="angle" value="135" type="QString" />
            <Option name="color" value="68,68,68,255" type="QString" />
            <Option name="distance" value="1.2" type="QString" />
            <Option name="distance_unit" value="MM" type="QString" />
            <Option name="line_width" value="0.2" type="QString" />
            <Option name="line_width_unit" value="MM" type="QString" />
            <Option name="offset" value="0" type="QString" />
            <Option name="offset_unit" value="MM" type="QString" />
          </Option>
          <prop k="angle" v="135" />
          <prop k="color" v="68,68,68,255" />
          <prop k="distance" v="1.2" />
          <prop k="distance_unit" v="MM" />
          <prop k="line_width" v="0.2" />
          <prop k="line_width_unit" v="MM" />
          <prop k="offset" v="0" />
          <prop k="offset_unit" v="MM" />
          <symbol name="@4@1" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
            <layer class="SimpleLine" enabled="1" locked="0" pass="0">
              <Option type="Map">
                <Option name="capstyle" value="square" type="QString" />
                <Option name="joinstyle" value="bevel" type="QString" />
                <Option name="line_color" value="68,68,68,255" type="QString" />
                <Option name="line_style" value="solid" type="QString" />
                <Option name="line_width" value="0.2" type="QString" />
                <Option name="line_width_unit" value="MM" type="QString" />
              </Option>
              <prop k="capstyle" v="square" />
              <prop k="joinstyle" v="bevel" />
              <prop k="line_color" v="68,68,68,255" />
              <prop k="line_style" v="solid" />
              <prop k="line_width" v="0.2" />
              <prop k="line_width_unit" v="MM" />
            </layer>
          </symbol>
        </layer>
      </symbol>
      <symbol name="5" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="255,255,255,255" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="85,85,85,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.15" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="solid" type="QString" />
          </Option>
          <prop k="color" v="255,255,255,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="85,85,85,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.15" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
    </symbols>
    <rotation />
    <sizescale />
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="coalesce(attribute('parcel_no'), attribute('SHTHUA'))" isExpression="1" fontFamily="DejaVu Sans" fontSize="7" fontSizeUnit="Point" fontWeight="50" textColor="0,0,0,255" textOpacity="1" multilineHeight="1" capitalization="0" allowHtml="0" fontItalic="0" fontUnderline="0" fontStrikeout="0">
        <text-buffer bufferDraw="1" bufferSize="0.6" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.9" bufferNoFill="1" bufferJoinStyle="128" />
      </text-style>
      <placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="1" polygonPlacementFlags="2" priority="5" dist="0" offsetType="0" />
      <rendering drawLabels="1" obstacle="1" obstacleFactor="1" obstacleType="1" displayAll="0" upsidedownLabels="0" labelPerPart="0" mergeLines="0" minFeatureSize="0" limitNumLabels="0" maxNumLabels="2000" zIndex="0" scaleVisibility="1" scaleMin="1" scaleMax="5000" />
    </settings>
  </labeling>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerOpacity>1</layerOpacity>
  <layerGeometryType>2</layerGeometryType>
</qgis>
